package dev.stacktrace.service;

import dev.stacktrace.tools.ProfileIntervals;
import dev.stacktrace.tools.ProfileSnapshot;
import dev.stacktrace.tools.Profiler;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What the service's profile gained since the last call, as snapshots of the time between
 * ({@link ProfileIntervals}): the profile of the last interval, taken from a profile that counts
 * since its start. A session that ended meanwhile gives what it gained until its end, and the
 * session after it everything it has counted so far, so no sample is taken twice or lost between two
 * calls. One reader per instance.
 */
public final class ProfileDelta {
    private final StacktraceService service;
    private Profiler seen;
    private ProfileIntervals intervals;

    public ProfileDelta(StacktraceService service) {
        this.service = Objects.requireNonNull(service, "service");
    }

    /**
     * The snapshots of what was sampled since the last call (none, one, or two when a session ended
     * meanwhile), empty ones left out. The profile is read here, while sampling goes on: call it from
     * a thread of its own. Only the stacks sampled since the last call are named
     * ({@link ProfileIntervals}).
     */
    public synchronized List<ProfileSnapshot> next() {
        List<ProfileSnapshot> gained = new ArrayList<>(2);
        Profiler now = service.profile();
        if (seen != now) {
            if (seen != null) add(gained, intervals.next());  // the ended session's last part
            seen = now;
            intervals = now == null ? null : now.intervals();
        }
        if (now != null) add(gained, intervals.next());
        return gained;
    }

    private static void add(List<ProfileSnapshot> to, ProfileSnapshot s) {
        if (!s.samples().isEmpty()) to.add(s);
    }
}
