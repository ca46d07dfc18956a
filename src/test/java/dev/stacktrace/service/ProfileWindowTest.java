package dev.stacktrace.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.tools.ProfileSnapshot;
import dev.stacktrace.tools.Profiler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** StacktraceService.profileWindow: a session of its own, or the window of a running one; its bounds. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProfileWindowTest {
    private final StacktraceService service = StacktraceService.get();

    @Test
    void withoutASessionItRunsOneOfItsOwnAndStopsIt() throws Exception {
        assertFalse(service.isProfiling());
        ProfileSnapshot s = service.profileWindow(Profiler.Mode.WALL, Duration.ofSeconds(1));
        assertFalse(service.isProfiling(), "its own session is stopped");
        assertEquals(Profiler.Mode.WALL, s.mode());
        assertEquals(StacktraceService.WINDOW_INTERVAL, s.interval());
        assertTrue(s.duration().compareTo(Duration.ofMillis(900)) >= 0, "duration " + s.duration());
        assertTrue(s.totalCount() > 0, "wall mode samples every thread, sleeping ones too");
        assertEquals(s.totalCount(), service.profile().snapshot().totalCount(), "it is the last profile");
    }

    @Test
    void aRunningSessionOfTheModeIsSharedAndKeepsRunningAndTheOtherModeIsRefused() throws Exception {
        service.startProfiling(null, Profiler.Mode.WALL, Duration.ofMillis(20));
        try {
            Profiler running = service.profile();
            Thread.sleep(1500);  // samples before the window that it must not return
            ProfileSnapshot before = running.snapshot();
            ProfileSnapshot window = service.profileWindow(Profiler.Mode.WALL, Duration.ofSeconds(1));
            long after = running.snapshot().totalCount();
            assertTrue(service.isProfiling(), "the session keeps running");
            assertSame(running, service.profile());
            assertEquals(Duration.ofMillis(20), window.interval(), "the running session's interval");
            assertTrue(before.totalCount() > 0 && window.totalCount() > 0, "samples before and in the window");
            assertTrue(window.totalCount() <= after - before.totalCount(), "only samples taken after the window began: "
                    + window.totalCount() + " of " + after);
            assertFalse(window.start().isBefore(before.end()), "the window starts when it was asked for");
            IllegalStateException other = assertThrows(IllegalStateException.class,
                    () -> service.profileWindow(Profiler.Mode.CPU, Duration.ofSeconds(1)));
            assertTrue(other.getMessage().contains("a wall profiling session is running"), other.getMessage());
        } finally {
            service.stopProfiling();
        }
    }

    @Test
    void lengthsOutsideOneSecondToFiveMinutesAreRefused() {
        for (Duration d : new Duration[] {Duration.ZERO, Duration.ofMillis(999), Duration.ofSeconds(301)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> service.profileWindow(Profiler.Mode.CPU, d));
            assertTrue(e.getMessage().contains("from 1 to 300 seconds"), e.getMessage());
        }
        assertFalse(service.isProfiling());
    }
}
