package dev.stacktrace.internal.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.internal.binding.LibraryStatus;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** HotSpot's tables as read from this JVM's libjvm: entries every supported JDK has, with sane values. */
class VMStructsTest {

    @Test
    void readsFieldsTypesAndConstantsOfThisJvm() {
        LibraryStatus.ensureLoaded();
        VMStructs vm = VMStructs.get();
        assertTrue(vm.available(), vm.unavailableReason());
        long tid = vm.offset("OSThread", "_thread_id").orElseThrow();
        assertTrue(tid >= 0 && tid < vm.typeSize("OSThread").orElseThrow(), "OSThread::_thread_id at " + tid);
        assertTrue(vm.typeSize("JavaThread").orElseThrow() > vm.typeSize("Thread").orElseThrow());
        assertEquals(8, vm.typeSize("address").orElseThrow());
        assertTrue(vm.staticAddress("CodeCache", "_heaps").orElseThrow() != 0);
        assertFalse(vm.offset("CodeCache", "_heaps").isPresent(), "a static field has no offset");
        assertEquals("OSThread*", vm.fieldType("Thread", "_osthread") != null ? vm.fieldType("Thread", "_osthread")
                : vm.fieldType("JavaThread", "_osthread"));
        assertNull(vm.fieldType("NoSuchType", "_none"));
        assertTrue(vm.intConstant("oopSize").orElseThrow() == 8);
        Map<String, Long> all = vm.describe();
        assertTrue(all.size() > 500, all.size() + " entries");
        assertTrue(all.containsKey("CodeCache::_heaps (static)"), "statics are described as such");
    }
}
