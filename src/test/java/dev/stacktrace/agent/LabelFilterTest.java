package dev.stacktrace.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LabelFilterTest {
    @Test
    void labelsFromTheQuery() {
        assertEquals(Map.of(), LabelFilter.parse(null));
        assertEquals(Map.of(), LabelFilter.parse("other=1"));
        assertEquals(Map.of("endpoint", "/checkout"), LabelFilter.parse("label=endpoint=/checkout"));
        assertEquals(Map.of("endpoint", "/a b", "tenant", "x=y"),
                LabelFilter.parse("label=endpoint%3D%2Fa+b&seconds=3&label=tenant=x%3Dy"));
    }

    @Test
    void malformedLabelsAreRefused() {
        assertNull(LabelFilter.parse("label=novalue"));
        assertNull(LabelFilter.parse("label==v"));
        assertNull(LabelFilter.parse("label=%zz"));
    }
}
