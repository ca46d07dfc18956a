package dev.stacktrace.internal.symbols;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/** An immutable snapshot of the process's memory mappings, sorted by start address. */
public final class ProcessMaps {

    static final Path SELF_MAPS = Path.of("/proc/self/maps");
    private static final String DELETED = " (deleted)";

    private final Mapping[] mappings;
    private final long[] starts;

    private ProcessMaps(Mapping[] sorted) {
        this.mappings = sorted;
        this.starts = new long[sorted.length];
        for (int i = 0; i < sorted.length; i++) {
            starts[i] = sorted[i].start();
        }
    }

    /** Reads /proc/self/maps; an unreadable file gives an empty snapshot. */
    public static ProcessMaps readSelf() {
        List<String> lines = new ArrayList<>(1024);
        try (BufferedReader in = Files.newBufferedReader(SELF_MAPS, StandardCharsets.UTF_8)) {
            for (String line; (line = in.readLine()) != null; ) {
                lines.add(line);
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux or no procfs: every address is then "[unknown]".
        }
        return parse(lines);
    }

    /** Parses maps lines; lines that do not parse are skipped. */
    static ProcessMaps parse(List<String> lines) {
        List<Mapping> out = new ArrayList<>(lines.size());
        for (String line : lines) {
            Mapping m = parseLine(line);
            if (m != null) {
                out.add(m);
            }
        }
        Mapping[] sorted = out.toArray(new Mapping[0]);
        // Unsigned: [vsyscall] lives at the top of the address space.
        Arrays.sort(sorted, Comparator.comparing(Mapping::start, Long::compareUnsigned));
        return new ProcessMaps(sorted);
    }

    /** Format: {@code start-end perms offset major:minor inode [path]}; the path may hold spaces. */
    static Mapping parseLine(String line) {
        try {
            int[] pos = {0};
            String range = field(line, pos);
            String perms = field(line, pos);
            String offset = field(line, pos);
            String device = field(line, pos);
            String inode = field(line, pos);
            if (inode == null) {
                return null;
            }
            int dash = range.indexOf('-');
            long start = Long.parseUnsignedLong(range.substring(0, dash), 16);
            long end = Long.parseUnsignedLong(range.substring(dash + 1), 16);
            int p = pos[0];
            while (p < line.length() && line.charAt(p) == ' ') {
                p++;
            }
            String path = p < line.length() ? line.substring(p) : null;
            boolean deleted = path != null && path.endsWith(DELETED);
            if (deleted) {
                path = path.substring(0, path.length() - DELETED.length());
            }
            return new Mapping(start, end, perms, Long.parseUnsignedLong(offset, 16), device,
                    Long.parseUnsignedLong(inode), path, deleted);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String field(String line, int[] pos) {
        int p = pos[0];
        while (p < line.length() && line.charAt(p) == ' ') {
            p++;
        }
        int begin = p;
        while (p < line.length() && line.charAt(p) != ' ') {
            p++;
        }
        pos[0] = p;
        return p > begin ? line.substring(begin, p) : null;
    }

    /** Index of the mapping covering {@code address}, or -1. */
    int indexOf(long address) {
        int lo = 0;
        int hi = starts.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(starts[mid], address) <= 0) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return hi >= 0 && mappings[hi].contains(address) ? hi : -1;
    }

    /** The mapping covering {@code address}, or null. */
    Mapping find(long address) {
        int i = indexOf(address);
        return i < 0 ? null : mappings[i];
    }

    Mapping get(int index) {
        return mappings[index];
    }

    int size() {
        return mappings.length;
    }

    public List<Mapping> all() {
        return List.of(mappings);
    }
}
