package dev.stacktrace.internal.stacks;

import dev.stacktrace.internal.binding.LibStacktrace;
import java.util.Arrays;

/**
 * One stack as native-lib records it, read frame by frame: the one place that knows the layouts of
 * raw frame records (stacktrace.h). A frame is a kind ({@code LibStacktrace.FRAME_*}), an id (an
 * address, a jmethodID, or a marker's reason), a bci and the pc it was found at.
 *
 * <ul>
 *   <li>{@link #addresses}: st_capture_self, st_capture_thread; one word a frame, its address;
 *   <li>{@link #mixed}: st_capture_mixed; {@value LibStacktrace#MIXED_WORDS} words a frame: kind, id, bci, pc, sp;
 *   <li>{@link #forEachProfileStack}: st_profile_read; per stack its count and frame count (the label
 *       set's id in the high 32 bits), then three
 *       words a frame: kind, id, bci (a native frame's id is its pc).
 * </ul>
 *
 * Equal stacks (same layout, same words) are equal objects, so a stack can key a cache.
 */
public final class RawStack {
    /** Words a frame of the profile table: kind, id, bci. */
    private static final int PROFILE_WORDS = LibStacktrace.PROFILE_WORDS_PER_FRAME;

    private final long[] words;
    private final int stride;
    /** Frames: the first {@code size × stride} words are the stack, the rest of the array is not. */
    private final int size;

    private RawStack(long[] words, int stride) {
        this(words, stride, words.length / stride);
    }

    private RawStack(long[] words, int stride, int size) {
        this.words = words;
        this.stride = stride;
        this.size = size;
    }

    /** Addresses only: every frame native, the address its id and pc. */
    public static RawStack addresses(long[] raw) {
        return new RawStack(raw, 1);
    }

    /** A mixed stack of st_capture_mixed. */
    public static RawStack mixed(long[] words) {
        return new RawStack(words, LibStacktrace.MIXED_WORDS);
    }

    /** The mixed stack of the first {@code frames} frames of {@code words}, an array that may be longer. */
    public static RawStack mixed(long[] words, int frames) {
        if (frames < 0 || (long) frames * LibStacktrace.MIXED_WORDS > words.length) {
            throw new IllegalArgumentException(frames + " frames do not fit in " + words.length + " words");
        }
        return new RawStack(words, LibStacktrace.MIXED_WORDS, frames);
    }

    /** Receives each stack of a profile table with its sample count. */
    public interface ProfileVisitor {
        void visit(RawStack stack, long count);
    }

    /** Receives each stack of a profile table with its sample count and label-set id (0: no labels). */
    public interface LabeledProfileVisitor {
        void visit(RawStack stack, long count, int label);
    }

    /** Every stack of a table read by st_profile_read, in the table's order. */
    public static void forEachProfileStack(long[] table, ProfileVisitor visitor) {
        forEachLabeledProfileStack(table, (stack, count, label) -> visitor.visit(stack, count));
    }

    /**
     * Every stack of a table read by st_profile_read with its label-set id, in the table's order
     * (equal stacks under different labels are apart).
     */
    public static void forEachLabeledProfileStack(long[] table, LabeledProfileVisitor visitor) {
        forEachProfileEntry(table, (words, from, to, count, label) -> visitor.visit(profileStack(words, from, to), count, label));
    }

    /**
     * Receives each stack of a profile table in place, before any copy: its frames' words are
     * {@code table[from..to)}; {@link #profileStack} makes the stack of them, {@link #isProfileStackAt}
     * compares a stack with them.
     */
    public interface ProfileEntryVisitor {
        void visit(long[] table, int from, int to, long count, int label);
    }

    /**
     * Every stack of a table read by st_profile_read, in place, in the table's order, up to the
     * array's end or the first zero header (a read leaves the rest of its array zero; every stack
     * recorded has a count).
     */
    public static void forEachProfileEntry(long[] table, ProfileEntryVisitor visitor) {
        int at = 0;
        while (at + 2 <= table.length) {
            if (table[at] == 0 && table[at + 1] == 0) break;
            long count = table[at];
            int frames = (int) (table[at + 1] & 0xffff_ffffL);  // the label's id is in the high half
            int label = (int) (table[at + 1] >>> 32);
            at += 2;
            visitor.visit(table, at, at + PROFILE_WORDS * frames, count, label);
            at += PROFILE_WORDS * frames;
        }
    }

    /** The stack whose frames are {@code table[from..to)} of a profile table. */
    public static RawStack profileStack(long[] table, int from, int to) {
        return new RawStack(Arrays.copyOfRange(table, from, to), PROFILE_WORDS);
    }

    /** Whether this is the stack whose frames are {@code table[from..to)} of a profile table. */
    public boolean isProfileStackAt(long[] table, int from, int to) {
        return stride == PROFILE_WORDS && Arrays.equals(words, 0, size * stride, table, from, to);
    }

    public int size() {
        return size;
    }

    public int kind(int i) {
        return stride == 1 ? LibStacktrace.FRAME_NATIVE : (int) words[i * stride];
    }

    public long id(int i) {
        return stride == 1 ? words[i] : words[i * stride + 1];
    }

    public int bci(int i) {
        return stride == 1 ? 0 : (int) words[i * stride + 2];
    }

    /** Where the frame was found; the id where the layout has no pc of its own. */
    public long pc(int i) {
        return stride == LibStacktrace.MIXED_WORDS ? words[i * stride + 3] : id(i);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RawStack r && stride == r.stride && size == r.size
                && Arrays.equals(words, 0, size * stride, r.words, 0, size * stride);
    }

    @Override
    public int hashCode() {
        int h = 31 * stride + size;
        for (int i = 0; i < size * stride; i++) h = 31 * h + Long.hashCode(words[i]);
        return h;
    }
}
