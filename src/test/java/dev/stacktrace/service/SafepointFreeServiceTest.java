package dev.stacktrace.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.testlib.SafepointStall;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The service's thread list and dump need no safepoint. A child JVM runs a compiled loop with no
 * safepoint poll; while it spins, the service lists and dumps every thread. Then the child asks for
 * Thread.getAllStackTraces(), which needs a safepoint and so waits for the spinner to end: that
 * shows the service really answered where a safepoint operation could not.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class SafepointFreeServiceTest {
    private static final int SPIN_SECONDS = 25;

    /** The child: warm up, start the spinner, use the service, then a safepoint operation. */
    public static final class Child {
        private static volatile int sink;

        public static void main(String[] args) throws Exception {
            StacktraceService service = StacktraceService.get();
            service.listThreads();
            service.dumpAllThreads(100);  // loads the capture and the symbol tables
            long compileDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            for (int k = 0; k < 3000; k++) sink += SafepointStall.spin(2 + (k & 3), 2000, compileDeadline);
            Thread.sleep(500);
            System.gc();  // an empty young generation: our own allocation asks for no GC while the spinner runs

            long spinDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Integer.parseInt(args[0]));
            Thread spinner = new Thread(() -> sink += SafepointStall.spin(Integer.MAX_VALUE, 1 << 24, spinDeadline),
                    "stall-spinner");
            spinner.setDaemon(true);
            spinner.start();
            Thread.sleep(300);

            long t0 = System.nanoTime();
            List<StacktraceService.ThreadRow> rows = service.listThreads();
            String dump = service.dumpAllThreads(100);
            long t1 = System.nanoTime();
            boolean spinnerRan = spinner.isAlive();
            System.out.println("SERVICE ms=" + (t1 - t0) / 1_000_000 + " spinner_alive=" + spinnerRan);
            for (StacktraceService.ThreadRow r : rows) System.out.println("ROW " + r);
            dump.lines().forEach(l -> System.out.println("DUMP " + l));

            long t2 = System.nanoTime();
            Thread.getAllStackTraces();
            long t3 = System.nanoTime();
            System.out.println("SAFEPOINT_OP ms=" + (t3 - t2) / 1_000_000 + " spin_left_ms="
                    + Math.max(0, (spinDeadline - t2) / 1_000_000));
            System.out.println("DONE");
        }
    }

    @Test
    void listAndDumpAnswerWhileNoSafepointCanBeReached() throws Exception {
        List<String> options = List.of("-Xmx640m", "-Xms512m", "-Xmn384m", "-XX:+UnlockDiagnosticVMOptions",
                "-XX:GuaranteedSafepointInterval=0");
        try (SafepointStall.Child child = SafepointStall.launch(Duration.ofSeconds(SPIN_SECONDS), Child.class, options)) {
            String service = child.awaitLine("SERVICE ", Duration.ofSeconds(90));
            String safepoint = child.awaitLine("SAFEPOINT_OP ", Duration.ofSeconds(SPIN_SECONDS + 30));
            child.awaitLine("DONE", Duration.ofSeconds(10));
            assertTrue(child.process().waitFor(20, TimeUnit.SECONDS), "the child ends");
            assertEquals(0, child.process().exitValue(), String.join("\n", child.output()));
            List<String> out = child.output();
            System.out.println("safepoint-free service: " + service + "; then " + safepoint);

            // the service answered while the spinner still held off every safepoint
            assertTrue(service.endsWith("spinner_alive=true"), service);
            // ...and a safepoint operation started right after it had to wait for the spinner
            Matcher m = Pattern.compile("SAFEPOINT_OP ms=(\\d+) spin_left_ms=(\\d+)").matcher(safepoint);
            assertTrue(m.matches(), safepoint);
            long waited = Long.parseLong(m.group(1));
            long left = Long.parseLong(m.group(2));
            assertTrue(left < 1000 || waited >= left / 2, "Thread.getAllStackTraces() should have waited for the "
                    + "spinner: " + safepoint);

            String rows = out.stream().filter(l -> l.startsWith("ROW ")).collect(Collectors.joining("\n"));
            assertTrue(rows.contains("name=stall-spinner"), rows);
            assertTrue(rows.contains("threadId=-1") && rows.contains("name=VM Thread"),
                    "threads without a java.lang.Thread are listed:\n" + rows);

            String dump = out.stream().filter(l -> l.startsWith("DUMP ")).map(l -> l.substring(5))
                    .collect(Collectors.joining("\n"));
            String spinner = section(dump, "stall-spinner");
            assertTrue(spinner.contains("at dev.stacktrace.testlib.SafepointStall.spin("), spinner);
            String vmThread = section(dump, "VM Thread");
            assertTrue(vmThread.matches("(?s)\"VM Thread\" nid=\\d+ .*"), "no Java id for the VM thread:\n" + vmThread);
            assertTrue(vmThread.contains("(libjvm.so)"), "the VM thread's native frames:\n" + vmThread);
        }
    }

    private static String section(String dump, String thread) {
        int start = dump.indexOf("\"" + thread + "\"");
        assertTrue(start >= 0, "no section for " + thread + " in\n" + dump);
        int end = dump.indexOf("\n\n", start);
        return dump.substring(start, end < 0 ? dump.length() : end);
    }
}
