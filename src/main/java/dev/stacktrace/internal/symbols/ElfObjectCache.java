package dev.stacktrace.internal.symbols;

import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Parsed objects by file identity. Each object is parsed once; threads asking for the same
 * object wait for that one parse, while other objects load in parallel (no lock held on the map).
 */
final class ElfObjectCache {

    /** A mapped file's identity as /proc/self/maps gives it. */
    record Key(String device, long inode, String path) {}

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
