package dev.stacktrace.internal.symbols;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * This process's mappings, each bound on first use to its parsed ELF object. The mappings are
 * re-read when a code address falls outside all of them (a library loaded since) or inside one that
 * cannot hold code. Re-reads are rationed so that a stream of garbage addresses cannot cause a storm
 * of them: a few back to back, then one per {@code minRereadNanos}. The few matter: a library loaded
 * just after a re-read that a garbage address asked for would otherwise stay unnamed until the
 * interval passed, and a profile keeps the names it got.
 *
 * <p>Known limit: an address still covered by a stale executable mapping (library unloaded and the
 * range reused by another) does not trigger a re-read; the JVM rarely unloads native libraries.
 */
final class AddressSpace {

    /** The owning object of an address: its mapping, names for reports, and the object's symbols. */
    record Located(Mapping mapping, String library, String path, boolean inJvm, ElfObject object, long bias) {}

    private record Snapshot(ProcessMaps maps, Located[] located) {}

    static final long DEFAULT_MIN_REREAD_NANOS = 100_000_000L;
    /** Re-reads allowed back to back before the interval applies. */
    static final int DEFAULT_REREAD_BURST = 3;

    private final Supplier<ProcessMaps> reader;
    private final ElfObjectCache objects;
    private final ElfObjectLoader loader;
    private final long minRereadNanos;
    private final int rereadBurst;
    private volatile Snapshot snapshot;
    /**
     * The ration as one due time: each re-read moves it one interval on from now or from where it
     * was, whichever is later, and a re-read is allowed while it is at most {@code rereadBurst - 1}
     * intervals ahead of now. Guarded by this.
     */
    private long rereadDueNanos;
    /** When the next re-read is allowed, derived from rereadDueNanos: checked without the lock. */
    private volatile long rereadAllowedAtNanos;

    /**
     * @param minRereadNanos the interval at which re-reads are allowed once the burst is spent (0: always)
     * @param rereadBurst    re-reads allowed back to back (0: none after the first read, unless
     *                       {@code minRereadNanos} is 0)
     */
    AddressSpace(Supplier<ProcessMaps> reader, ElfObjectCache objects, ElfObjectLoader loader, long minRereadNanos,
                 int rereadBurst) {
        this.reader = reader;
        this.objects = objects;
        this.loader = loader;
        this.minRereadNanos = minRereadNanos;
        this.rereadBurst = rereadBurst;
        this.rereadDueNanos = System.nanoTime();
        this.rereadAllowedAtNanos = allowedAt(rereadDueNanos);
    }

    /**
     * The owner of {@code address}, a code address (a pc or a return address), or null when no
     * mapping covers it. A mapping that is not executable is looked at again in fresh maps
     * (rate-limited like a miss), since a snapshot can show code as data in two ways, and would
     * otherwise stay until some address fell outside every mapping: maps read while the dynamic
     * loader is half-way through a library (it maps the whole file read-only first, then each
     * segment in place), and maps read before a library was loaded into memory freed since (a
     * thread's stack, a malloc arena), which still show that memory where the library now is.
     */
    Located locate(long address) {
        Snapshot s = snapshot;
        if (s == null) {
            s = reread(null);
        }
        int i = s.maps.indexOf(address);
        if (i < 0 || suspect(s.maps.get(i))) {
            if (System.nanoTime() - rereadAllowedAtNanos >= 0) {
                s = rereadIfAllowed(s);
                i = s.maps.indexOf(address);
            }
            if (i < 0) {
                return null;
            }
        }
        Located l = s.located[i];
        if (l == null) {
            // Racy but safe: Located is immutable and binding the same mapping twice gives equal results.
            l = bind(s.maps.get(i), s.maps);
            s.located[i] = l;
        }
        return l;
    }

    /** The maps addresses are located in now, as a token: another one after every re-read (null before the first). */
    Object version() {
        return snapshot;
    }

    /** Memory that cannot hold code where code was looked for: perhaps the snapshot is stale. */
    private static boolean suspect(Mapping m) {
        return !m.executable();
    }

    /**
     * The loaded object with this file name (e.g. "libjvm.so") by its code: the first private,
     * executable mapping of such a file, or null. Other mappings of the same file are not the
     * loader's: the string tables this class maps to name symbols, or a user's FileChannel map, at a
     * lower address than the object's own, would give a wrong bias, and so wrong addresses.
     */
    Located locateLibrary(String fileName) {
        for (int attempt = 0; attempt < 2; attempt++) {
            Snapshot s = attempt == 0 && snapshot != null ? snapshot : reread(snapshot);
            for (int i = 0; i < s.maps.size(); i++) {
                Mapping m = s.maps.get(i);
                if (m.fileBacked() && !m.deleted() && m.executable() && !m.shared() && m.fileName().equals(fileName)) {
                    Located l = bind(m, s.maps);
                    if (l.bias() != ElfObject.NO_BIAS) return l;
                }
            }
        }
        return null;
    }

    private synchronized Snapshot rereadIfAllowed(Snapshot seen) {
        Snapshot s = snapshot;
        if (s != seen) {
            return s; // another thread re-read meanwhile
        }
        return takeReread() ? reread(seen) : s;
    }

    private synchronized Snapshot reread(Snapshot seen) {
        Snapshot s = snapshot;
        if (s != seen && s != null) {
            return s; // another thread re-read meanwhile
        }
        ProcessMaps maps = reader.get();
        s = new Snapshot(maps, new Located[maps.size()]);
        snapshot = s;
        return s;
    }

    /** Takes one re-read from the ration if one is left. Under the lock. */
    private boolean takeReread() {
        if (minRereadNanos == 0) {
            return true;
        }
        long now = System.nanoTime();
        if (now - allowedAt(rereadDueNanos) < 0) {
            return false;
        }
        rereadDueNanos = (now - rereadDueNanos > 0 ? now : rereadDueNanos) + minRereadNanos;
        rereadAllowedAtNanos = allowedAt(rereadDueNanos);
        return true;
    }

    /** The first time a re-read is allowed with the ration due at {@code due}; far ahead when none ever is. */
    private long allowedAt(long due) {
        if (minRereadNanos == 0) return due;
        return rereadBurst == 0 ? due + Long.MAX_VALUE / 4 : due - (rereadBurst - 1) * minRereadNanos;
    }

    /** Every mapping of the file {@code m} maps. */
    private static List<Mapping> sameFile(ProcessMaps maps, Mapping m) {
        List<Mapping> out = new ArrayList<>();
        for (Mapping other : maps.all()) {
            if (other.inode() == m.inode() && other.device().equals(m.device()) && m.path().equals(other.path())) out.add(other);
        }
        return out;
    }

    private Located bind(Mapping m, ProcessMaps maps) {
        if (m.vdso()) {
            ElfObject vdso = objects.get(new ElfObjectCache.Key("vdso", m.start(), m.path()), () -> loader.loadVdso(m));
            return new Located(m, "[vdso]", null, false, vdso, vdso.biasFor(m));
        }
        if (!m.fileBacked()) {
            if (m.anonymous()) {
                // Anonymous executable memory in a JVM is its code cache: JIT code, interpreter, stubs.
                return m.executable()
                        ? new Located(m, "[jit]", null, true, null, ElfObject.NO_BIAS)
                        : new Located(m, "[unknown]", null, false, null, ElfObject.NO_BIAS);
            }
            return new Located(m, m.path(), null, false, null, ElfObject.NO_BIAS); // [stack], [heap], [vsyscall]
        }
        String library = LibraryNames.stable(m.fileName());
        boolean inJvm = library.equals("libjvm.so");
        // Keyed by the mapped file's identity: a deleted or replaced file is still that inode.
        ElfObject object = objects.get(new ElfObjectCache.Key(m.device(), m.inode(), m.path()),
                () -> loader.load(m, () -> sameFile(maps, m)));
        return new Located(m, library, m.path(), inJvm, object, object.biasFor(m));
    }
}
