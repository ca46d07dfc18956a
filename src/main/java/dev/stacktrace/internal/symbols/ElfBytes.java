package dev.stacktrace.internal.symbols;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Random access to an ELF image: a file (regions are memory-mapped so that big string tables
 * stay off the heap) or a copy held in memory (the vdso).
 */
abstract class ElfBytes implements Closeable {

    /** Regions at least this big are mapped rather than copied to the heap. */
    private static final int MAP_THRESHOLD = 16 * 1024;

    abstract long size();

    /** Little-endian view of {@code [offset, offset+length)} with position 0; fails when outside the image. */
    final ByteBuffer read(long offset, long length) throws IOException {
        if (offset < 0 || length < 0 || offset > size() || length > size() - offset) {
            throw new ElfFormatException("region " + offset + "+" + length + " outside image of " + size() + " bytes");
        }
        if (length > Integer.MAX_VALUE) {
            throw new ElfFormatException("region too large: " + length);
        }
        return load(offset, (int) length).order(ByteOrder.LITTLE_ENDIAN);
    }

    abstract ByteBuffer load(long offset, int length) throws IOException;

    /**
     * Fills {@code into} (from its position to its limit) with the image's bytes from {@code offset}:
     * a copy, never a mapping, for regions read once in pieces.
     */
    final void readFully(long offset, ByteBuffer into) throws IOException {
        if (offset < 0 || offset > size() || into.remaining() > size() - offset) {
            throw new ElfFormatException("region " + offset + "+" + into.remaining() + " outside image of " + size() + " bytes");
        }
        copy(offset, into);
    }

    abstract void copy(long offset, ByteBuffer into) throws IOException;

    @Override
    public void close() throws IOException {
    }

    static ElfBytes open(Path file) throws IOException {
        return new FileBytes(FileChannel.open(file, StandardOpenOption.READ));
    }

    static ElfBytes of(ByteBuffer image) {
        return new MemoryBytes(image);
    }

    private static final class FileBytes extends ElfBytes {
        private final FileChannel channel;
        private final long size;

        FileBytes(FileChannel channel) throws IOException {
            this.channel = channel;
            this.size = channel.size();
        }

        @Override
        long size() {
            return size;
        }

        @Override
        ByteBuffer load(long offset, int length) throws IOException {
            if (length >= MAP_THRESHOLD) {
                // The mapping outlives the channel, so tables can keep it after close().
                return channel.map(FileChannel.MapMode.READ_ONLY, offset, length);
            }
            ByteBuffer buf = ByteBuffer.allocate(length);
            copy(offset, buf);
            return buf.flip();
        }

        @Override
        void copy(long offset, ByteBuffer into) throws IOException {
            long start = offset - into.position();
            while (into.hasRemaining()) {
                if (channel.read(into, start + into.position()) < 0) {
                    throw new ElfFormatException("file shrank while reading");
                }
            }
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    private static final class MemoryBytes extends ElfBytes {
        private final ByteBuffer image;

        MemoryBytes(ByteBuffer image) {
            this.image = image.duplicate().clear();
        }

        @Override
        long size() {
            return image.capacity();
        }

        @Override
        ByteBuffer load(long offset, int length) {
            return image.slice((int) offset, length);
        }

        @Override
        void copy(long offset, ByteBuffer into) {
            into.put(image.slice((int) offset, into.remaining()));
        }
    }
}
