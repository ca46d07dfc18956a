package dev.stacktrace.internal.symbols;

/**
 * One line of /proc/self/maps.
 *
 * @param path the file path (without the " (deleted)" suffix), a pseudo name such as "[vdso]",
 *             or null for anonymous memory
 */
record Mapping(long start, long end, String perms, long fileOffset, String device, long inode,
               String path, boolean deleted) {

    boolean contains(long address) {
        return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0;
    }

    boolean executable() {
        return perms.length() > 2 && perms.charAt(2) == 'x';
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

    /**
     * The device number (dev_t, as stat gives it) of a "major:minor" field in hex, or -1 when it
     * does not parse. Linux's encoding: minor's low byte, major's 12 low bits, then the high bits.
     */
    static long deviceNumber(String device) {
        int colon = device == null ? -1 : device.indexOf(':');
        if (colon < 0) return -1;
        try {
            long major = Long.parseLong(device.substring(0, colon), 16);
            long minor = Long.parseLong(device.substring(colon + 1), 16);
            return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xffL) << 12) | ((major & ~0xfffL) << 32);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
