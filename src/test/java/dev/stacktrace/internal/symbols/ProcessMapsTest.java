package dev.stacktrace.internal.symbols;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ProcessMapsTest {

    private static final List<String> LINES = List.of(
            "7f0000002000-7f0000003000 r-xp 00001000 fe:00 1234                       /opt/my libs/libfoo 2.so",
            "55d0c0000000-55d0c0021000 rw-p 00000000 00:00 0                          [heap]",
            "7f0000000000-7f0000001000 r--p 00000000 fe:00 1234                       /opt/my libs/libfoo 2.so",
            "7f0000010000-7f0000020000 rwxp 00000000 00:00 0 ",
            "7f0000030000-7f0000031000 r-xp 00002000 08:01 99                         /tmp/libgone.so (deleted)",
            "7ffc0a000000-7ffc0a002000 r-xp 00000000 00:00 0                          [vdso]",
            "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
            "not a maps line",
            "");

    private final ProcessMaps maps = ProcessMaps.parse(LINES);

    @Test
    void parsesFieldsAndSkipsGarbage() {
        assertEquals(7, maps.size());
        Mapping lib = maps.find(0x7f0000002abcL);
        assertNotNull(lib);
        assertEquals(0x7f0000002000L, lib.start());
        assertEquals(0x7f0000003000L, lib.end());
        assertEquals(0x1000, lib.fileOffset());
        assertEquals("fe:00", lib.device());
        assertEquals(1234, lib.inode());
        assertEquals("/opt/my libs/libfoo 2.so", lib.path());
        assertEquals("libfoo 2.so", lib.fileName());
        assertTrue(lib.executable() && lib.fileBacked() && !lib.deleted());
    }

    @Test
    void classifiesAnonymousDeletedAndPseudoMappings() {
        Mapping anon = maps.find(0x7f0000015000L);
        assertNull(anon.path());
        assertTrue(anon.anonymous() && anon.executable() && !anon.fileBacked());

        Mapping gone = maps.find(0x7f0000030000L);
        assertEquals("/tmp/libgone.so", gone.path());
        assertTrue(gone.deleted() && gone.fileBacked());
        assertEquals("libgone.so", gone.fileName());

        Mapping vdso = maps.find(0x7ffc0a001fffL);
        assertTrue(vdso.vdso() && !vdso.fileBacked() && !vdso.anonymous());

        Mapping heap = maps.find(0x55d0c0000000L);
        assertEquals("[heap]", heap.path());
        assertFalse(heap.executable());

        Mapping vsyscall = maps.find(0xffffffffff600010L); // above Long.MAX_VALUE: unsigned order
        assertEquals("[vsyscall]", vsyscall.path());
    }

    @Test
    void lookupRespectsHalfOpenRangesAndGaps() {
        assertEquals(0x7f0000000000L, maps.find(0x7f0000000000L).start());
        assertEquals(0x7f0000000000L, maps.find(0x7f0000000fffL).start());
        assertEquals(0x7f0000002000L, maps.find(0x7f0000002000L).start());
        assertNull(maps.find(0x7f0000001000L)); // gap between the two libfoo mappings
        assertNull(maps.find(0x7f0000003000L)); // end is exclusive
        assertNull(maps.find(0x10));
        assertNull(maps.find(0));
        assertNull(maps.find(-1L));
        assertNull(ProcessMaps.parse(List.of()).find(0x7f0000000000L));
    }

    @Test
    void readsThisProcess() {
        ProcessMaps self = ProcessMaps.readSelf();
        assertTrue(self.size() > 20, "mappings: " + self.size());
        assertTrue(self.all().stream().anyMatch(m -> "libjvm.so".equals(m.fileName())));
        assertTrue(self.all().stream().anyMatch(Mapping::vdso));
        for (int i = 1; i < self.size(); i++) {
            assertTrue(Long.compareUnsigned(self.get(i - 1).end(), self.get(i).start()) <= 0, "sorted, disjoint");
        }
    }
}
