package dev.stacktrace.internal.symbols;

import java.io.IOException;

/** The bytes are not an ELF image this package can read (not ELF, 32-bit, big-endian, truncated). */
final class ElfFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    ElfFormatException(String message) {
        super(message);
    }
}
