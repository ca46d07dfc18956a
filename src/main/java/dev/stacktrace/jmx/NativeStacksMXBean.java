package dev.stacktrace.jmx;

import dev.stacktrace.StackEntry;
import dev.stacktrace.tools.Profiler;
import java.beans.ConstructorProperties;
import java.util.Map;

/**
 * The operations and attributes of the MBean {@value NativeStacks#NAME}, and the rows it answers
 * with. As an MXBean, every value crosses the wire as an open type (CompositeData, arrays, TabularData
 * for a map), so a JMX client needs no class of ours.
 */
public interface NativeStacksMXBean {
    StackFrame[] getThreadStack(long threadId, int maxDepth, boolean showJvm);

    String printThreadStack(long threadId);

    StackFrame[] getNativeThreadStack(int nativeTid, int maxDepth, boolean showJvm);

    String dumpAllThreads();

    ThreadRow[] listThreads();

    void startProfiling(long threadId, double intervalMillis);

    void startProfilingAll(String mode, double intervalMillis);

    void stopProfiling();

    SymbolRow[] getTopSymbols(int n);

    String dumpCollapsed();

    String dumpFlameGraph(String title);

    /** The running or last profile as a gzip-compressed pprof profile. */
    byte[] dumpPprof();

    /** Every thread's samples over the next {@code seconds} (1 to 300) as a gzip-compressed pprof profile. */
    byte[] profilePprof(int seconds, String mode);

    boolean isProfiling();

    long getSampleCount();

    /** Stacks walked, each one sample or more: a sample's interval that ended in the kernel (cpu mode) lands on its thread's next walk. */
    long getWalkCount();

    long getErrorCount();

    /** Samples not recorded, by reason. */
    Map<String, Long> getErrorCounts();

    /** Samples recorded with a marker frame: the stack walk stopped early. */
    long getIncompleteCount();

    /** Threads the running profile cannot sample (over 4,096, or no room for their timers in the user's signal queue). */
    long getUnsampledThreads();

    double getIntervalMillis();

    /** The interval each sampled thread actually gets, in ms: the tick's in cpu mode on POSIX timers when longer than asked. */
    double getEffectiveIntervalMillis();

    String getMode();

    String getVersion();

    /** One frame of a stack, innermost first (the columns of {@link StackEntry}). */
    final class StackFrame {
        private final long address;
        private final String name;
        private final long offset;
        private final String library;
        private final boolean isJvm;
        private final String kind;
        private final String className;
        private final String methodName;
        private final String fileName;
        private final int lineNumber;

        @ConstructorProperties({"address", "name", "offset", "library", "isJvm", "kind", "className", "methodName",
                "fileName", "lineNumber"})
        public StackFrame(long address, String name, long offset, String library, boolean isJvm, String kind,
                          String className, String methodName, String fileName, int lineNumber) {
            this.address = address;
            this.name = name;
            this.offset = offset;
            this.library = library;
            this.isJvm = isJvm;
            this.kind = kind;
            this.className = className;
            this.methodName = methodName;
            this.fileName = fileName;
            this.lineNumber = lineNumber;
        }

        static StackFrame of(StackEntry e) {
            return new StackFrame(e.address(), e.name(), e.offset(), e.library(), e.isJvm(), e.kind().name(),
                    e.className(), e.methodName(), e.fileName(), e.lineNumber());
        }

        public long getAddress() {
            return address;
        }

        public String getName() {
            return name;
        }

        public long getOffset() {
            return offset;
        }

        public String getLibrary() {
            return library;
        }

        /** The item is named isJvm, as in StackEntry. */
        public boolean getIsJvm() {
            return isJvm;
        }

        public String getKind() {
            return kind;
        }

        public String getClassName() {
            return className;
        }

        public String getMethodName() {
            return methodName;
        }

        public String getFileName() {
            return fileName;
        }

        public int getLineNumber() {
            return lineNumber;
        }
    }

    /** A thread of the process; threadId is -1 for one without a java.lang.Thread (GC, JIT, native). */
    final class ThreadRow {
        private final long threadId;
        private final int nativeTid;
        private final String name;
        private final String state;

        @ConstructorProperties({"threadId", "nativeTid", "name", "state"})
        public ThreadRow(long threadId, int nativeTid, String name, String state) {
            this.threadId = threadId;
            this.nativeTid = nativeTid;
            this.name = name;
            this.state = state;
        }

        public long getThreadId() {
            return threadId;
        }

        public int getNativeTid() {
            return nativeTid;
        }

        public String getName() {
            return name;
        }

        public String getState() {
            return state;
        }
    }

    /** A symbol's sample counts: on top of the stack (self) and anywhere in it (total). */
    final class SymbolRow {
        private final String symbol;
        private final String library;
        private final long self;
        private final long total;

        @ConstructorProperties({"symbol", "library", "self", "total"})
        public SymbolRow(String symbol, String library, long self, long total) {
            this.symbol = symbol;
            this.library = library;
            this.self = self;
            this.total = total;
        }

        static SymbolRow of(Profiler.SymbolCount c) {
            return new SymbolRow(c.name(), c.library(), c.self(), c.total());
        }

        public String getSymbol() {
            return symbol;
        }

        public String getLibrary() {
            return library;
        }

        public long getSelf() {
            return self;
        }

        public long getTotal() {
            return total;
        }
    }
}
