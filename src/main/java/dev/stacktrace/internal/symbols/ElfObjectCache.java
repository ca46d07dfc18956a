package dev.stacktrace.internal.symbols;

import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Parsed objects by file identity. Each object is parsed once; threads asking for the same
 * object wait for that one parse, while other objects load in parallel (no lock held on the map).
 */
final class ElfObjectCache {

    /**
     * A mapped file's identity as /proc/self/maps gives it. A plain class, not a record: a record's
     * hashCode is linked through invokedynamic on first use, tens of milliseconds of a cold JVM's
     * first stack.
     */
    static final class Key {
        private final String device;
        private final long inode;
        private final String path;

        Key(String device, long inode, String path) {
            this.device = device;
            this.inode = inode;
            this.path = path;
        }

        String path() {
            return path;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && inode == k.inode && Objects.equals(device, k.device) && Objects.equals(path, k.path);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * Objects.hashCode(device) + Long.hashCode(inode)) + Objects.hashCode(path);
        }
    }

    private final ConcurrentHashMap<Key, FutureTask<ElfObject>> objects = new ConcurrentHashMap<>();

    ElfObject get(Key key, Callable<ElfObject> loader) {
        FutureTask<ElfObject> task = objects.computeIfAbsent(key, k -> new FutureTask<>(loader));
        task.run(); // no-op once another thread ran or is running it
        try {
            return task.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ElfObject.failed(key.path(), "interrupted while loading");
        } catch (ExecutionException e) {
            return ElfObject.failed(key.path(), String.valueOf(e.getCause()));
        }
    }

    int size() {
        return objects.size();
    }
}
