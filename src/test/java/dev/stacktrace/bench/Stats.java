package dev.stacktrace.bench;

import java.util.Arrays;

/** Small statistics the benchmarks share. */
final class Stats {
    private Stats() {}

    /** The median of {@code values} (NaN for none); the array is left as it was. */
    static double median(double[] values) {
        if (values.length == 0) return Double.NaN;
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
