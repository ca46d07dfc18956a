package dev.stacktrace.internal.binding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The library describes its own ABI, and a jar that disagrees with it is told exactly where. */
class LibraryAbiTest {
    @Test
    void theLibraryListsItsConstantsAndTheBindingAgrees() {
        Map<String, Long> library = LibraryAbi.read();
        assertEquals(LibStacktrace.ABI_VERSION, library.get("ST_ABI_VERSION"));
        assertEquals(LibStacktrace.E_LATE, library.get("ST_ELATE"));
        assertEquals(LibStacktrace.COUNTERS, library.get("ST_PROFILE_COUNTERS"));
        long keys = library.get("VM_KEYS");
        assertTrue(keys > 10, "layout keys: " + keys);
        // the layout's keys are the indices 0..VM_KEYS-1, each once
        long[] seen = library.entrySet().stream().filter(e -> e.getKey().startsWith("VM_") && !e.getKey().equals("VM_KEYS"))
                .mapToLong(Map.Entry::getValue).sorted().toArray();
        assertEquals(keys, seen.length);
        for (int i = 0; i < seen.length; i++) assertEquals(i, seen[i]);
    }

    @Test
    void aMismatchNamesTheConstantAndBothValues() {
        Map<String, Long> library = new HashMap<>(LibraryAbi.read());
        library.put("ST_EBUSY", 42L);
        library.remove("ST_FRAME_STUB");
        List<String> wrong = LibraryAbi.mismatches(library,
                Map.of("ST_EBUSY", (long) LibStacktrace.E_BUSY, "ST_FRAME_STUB", (long) LibStacktrace.FRAME_STUB,
                        "ST_ELATE", (long) LibStacktrace.E_LATE));
        assertEquals(List.of("ST_EBUSY is 42 in the library, 1001 in the jar", "ST_FRAME_STUB is not in the library"), wrong);
    }
}
