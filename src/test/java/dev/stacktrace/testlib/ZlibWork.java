package dev.stacktrace.testlib;

import java.util.function.BooleanSupplier;
import java.util.zip.Deflater;

/** A known native call for tests: zlib through the JDK's Deflater, repeated while asked. */
public final class ZlibWork {
    private ZlibWork() {}

    /** Compresses {@code input} into {@code output} over and over while {@code keepGoing} holds; returns the bytes written. */
    public static long deflateWhile(BooleanSupplier keepGoing, byte[] input, byte[] output) {
        long n = 0;
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
        try {
            while (keepGoing.getAsBoolean()) {
                deflater.reset();
                deflater.setInput(input);
                deflater.finish();
                while (!deflater.finished()) n += deflater.deflate(output);
            }
        } finally {
            deflater.end();
        }
        return n;
    }
}
