package dev.stacktrace.internal.symbols;

/**
 * One line of /proc/self/maps.
 *
 * @param path the file path (without the " (deleted)" suffix), a pseudo name such as "[vdso]",
 *             or null for anonymous memory
 */
public record Mapping(long start, long end, String perms, long fileOffset, String device, long inode,
                      String path, boolean deleted) {

    boolean contains(long address) {
        return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0;
    }

    boolean executable() {
        return perms.length() > 2 && perms.charAt(2) == 'x';
    }

    /** MAP_SHARED: never how the dynamic loader maps an object, but how a FileChannel maps a file (ours included). */
    public boolean shared() {
        return perms.length() > 3 && perms.charAt(3) == 's';
    }

    /** A regular file (possibly deleted); pseudo names start with '[' and anonymous memory has no path. */
    boolean fileBacked() {
        return path != null && path.startsWith("/");
    }

    boolean vdso() {
        return "[vdso]".equals(path);
    }

    /** No path, or one the kernel names from prctl(PR_SET_VMA_ANON_NAME): still anonymous memory. */
    boolean anonymous() {
        return path == null || path.startsWith("[anon");
    }

    /** Last path element: the library name users know. */
    String fileName() {
        if (path == null) {
            return null;
        }
        int slash = path.lastIndexOf('/');
        return slash >= 0 ? path.substring(slash + 1) : path;
    }
}
