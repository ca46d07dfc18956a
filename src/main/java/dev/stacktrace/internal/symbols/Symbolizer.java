package dev.stacktrace.internal.symbols;

import dev.stacktrace.StackEntry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * Turns instruction addresses of this process into symbol, offset and library.
 *
 * <p>The first address in a library parses that library (tens of ms for libjvm.so); later
 * lookups are two binary searches and a cached name. Thread-safe; {@link #resolve} never throws
 * for odd addresses or unreadable files: an address in no symbol is named by its place
 * ({@link StackEntry#placeName}: {@code libfoo.so+0x1a2b}, the offset in the file).
 */
public final class Symbolizer {

    private static final String UNKNOWN_LIBRARY = "[unknown]";
    private static final String PLT_SUFFIX = "@plt";

    /** Process-wide state shared by every instance: the mappings and the parsed objects. */
    private static final class Process {
        static final AddressSpace SPACE = new AddressSpace(ProcessMaps::readSelf, new ElfObjectCache(),
                new ElfObjectLoader(new DebugFileLocator(DebugFileLocator.DEFAULT_ROOT)),
                AddressSpace.DEFAULT_MIN_REREAD_NANOS, AddressSpace.DEFAULT_REREAD_BURST);
        static final Symbolizer SHARED = new Symbolizer(UnaryOperator.identity());
    }

    /** A demangler with its own cache, swapped as one so that no stale cached name survives a swap. */
    private record Demangling(UnaryOperator<String> demangler, ConcurrentHashMap<String, String> cache) {}

    private final AddressSpace space;
    private volatile Demangling demangling;
    /** Display names for objects loaded from temporary files (JNA extracts its own as "jna123.tmp"). */
    private final ConcurrentHashMap<String, String> libraryNames = new ConcurrentHashMap<>();
    /** Replaced whenever the demangler or a library's name changes: names resolved before are stale. */
    private volatile Object naming = new Object();

    /**
     * Addresses named lately, one per slot of their hash: a stack taken again and again is named
     * without looking its frames up. An entry stands while the maps, the demangler and the library
     * names it was resolved with are still the current ones; entries are immutable, so threads may
     * race on a slot.
     */
    private record Recent(long address, boolean returnAddress, Object maps, Object naming, ResolvedAddress resolved) {}

    private static final int RECENT_BITS = 10;
    private final Recent[] recent = new Recent[1 << RECENT_BITS];

    /** @param demangler maps an Itanium-mangled name ("_Z...") to its readable form; may return null or its input */
    public Symbolizer(UnaryOperator<String> demangler) {
        this(Process.SPACE, demangler);
    }

    Symbolizer(AddressSpace space, UnaryOperator<String> demangler) {
        this.space = space;
        setDemangler(demangler);
    }

    /** The process-wide instance; it starts without demangling until the binding installs one. */
    public static Symbolizer shared() {
        return Process.SHARED;
    }

    /**
     * Parses the library mapped under this file name (e.g. "libjvm.so") now, on the calling thread,
     * so that later lookups in it find its symbols ready. Does nothing when it is not mapped.
     */
    public void preload(String fileName) {
        space.locateLibrary(fileName);
    }

    /** Shows the object mapped from {@code path} as {@code displayName} in every resolved address. */
    public void nameLibrary(String path, String displayName) {
        libraryNames.put(path, displayName);
        naming = new Object();
    }

    private String library(AddressSpace.Located at) {
        return at.path() == null ? at.library() : libraryNames.getOrDefault(at.path(), at.library());
    }

    public void setDemangler(UnaryOperator<String> demangler) {
        this.demangling = new Demangling(demangler == null ? UnaryOperator.identity() : demangler,
                new ConcurrentHashMap<>());
        naming = new Object();
    }

    /**
     * Resolves one address.
     *
     * @param returnAddress true for a return address (every frame but the innermost): the call
     *                      instruction is just before it, and at the very end of a function the
     *                      return address already lies in the next one, so address-1 is looked
     *                      up; the offset is still reported relative to {@code address}
     */
    public ResolvedAddress resolve(long address, boolean returnAddress) {
        Object maps = space.version();
        Object names = naming;
        int slot = (int) ((address * 0x9E3779B97F4A7C15L) >>> (64 - RECENT_BITS));
        Recent r = recent[slot];
        if (r != null && r.address == address && r.returnAddress == returnAddress && r.maps == maps && r.naming == names) {
            return r.resolved;
        }
        ResolvedAddress resolved = lookUp(address, returnAddress);
        // only names found in a symbol table are kept: a place name may yet become a symbol's (a
        // library that was half-way loaded when the maps were read)
        if (maps != null && resolved.hasName()) {
            recent[slot] = new Recent(address, returnAddress, maps, names, resolved);
        }
        return resolved;
    }

    private ResolvedAddress lookUp(long address, boolean returnAddress) {
        long lookup = returnAddress ? address - 1 : address;
        AddressSpace.Located at = null;
        try {
            at = space.locate(lookup);
            if (at == null) {
                return nowhere(address);
            }
            if (at.object() != null && at.bias() != ElfObject.NO_BIAS) {
                SymbolTable symbols = at.object().symbols();
                int i = symbols.indexOf(lookup + at.bias());
                if (i >= 0) {
                    long start = symbols.start(i) - at.bias();
                    return new ResolvedAddress(address, demangle(symbols.name(i)), address - start,
                            library(at), at.path(), at.inJvm());
                }
            }
            return unnamed(address, at);
        } catch (RuntimeException | InternalError e) {
            // InternalError: a fault reading a mapped file that was truncated under us.
            return at == null ? nowhere(address) : unnamed(address, at);
        }
    }

    /**
     * Whether code can run at {@code address}: an executable mapping (a library's text, the code
     * cache, the vdso). A return address anywhere else (the CDS archive, the heap, unmapped memory)
     * is not a frame but a word a stack walk misread.
     */
    public boolean isCode(long address) {
        try {
            AddressSpace.Located at = space.locate(address);
            return at != null && at.mapping().executable();
        } catch (RuntimeException | InternalError e) {
            return true;  // cannot tell: leave the frame as it is
        }
    }

    /**
     * The file mapping that covers {@code address} (a library's text), or null for memory that maps no
     * file (the code cache, the vdso, unmapped addresses). Never throws.
     */
    public MappedFile mappingOf(long address) {
        try {
            AddressSpace.Located at = space.locate(address);
            if (at == null || at.path() == null) return null;
            Mapping m = at.mapping();
            return new MappedFile(m.start(), m.end(), m.fileOffset(), at.path(),
                    at.object() == null ? null : at.object().buildId());
        } catch (RuntimeException | InternalError e) {
            return null;
        }
    }

    private static ResolvedAddress nowhere(long address) {
        return new ResolvedAddress(address, StackEntry.placeName(UNKNOWN_LIBRARY, address, -1), 0, UNKNOWN_LIBRARY,
                null, false);
    }

    /** An address in no symbol, named by its place: the offset in the mapped file, else the address. */
    private ResolvedAddress unnamed(long address, AddressSpace.Located at) {
        String library = library(at);
        Mapping m = at.mapping();
        long fileOffset = at.path() == null ? -1 : address - m.start() + m.fileOffset();
        return new ResolvedAddress(address, StackEntry.placeName(library, address, fileOffset), 0, library, at.path(),
                at.inJvm());
    }

    private String demangle(String raw) {
        if (!raw.startsWith("_Z")) {
            return raw;
        }
        if (raw.endsWith(PLT_SUFFIX)) {
            return demangle(raw.substring(0, raw.length() - PLT_SUFFIX.length())) + PLT_SUFFIX;
        }
        Demangling d = demangling;
        String cached = d.cache.get(raw);
        if (cached != null) {
            return cached;
        }
        String readable;
        try {
            readable = d.demangler.apply(raw);
        } catch (RuntimeException e) {
            readable = null; // a broken demangler costs readability, never the stack
        }
        if (readable == null || readable.isEmpty()) {
            readable = raw;
        }
        d.cache.put(raw, readable);
        return readable;
    }

    /**
     * The runtime address of a symbol (local ones included: .symtab and debug files) in a loaded
     * object, e.g. ("libjvm.so", "SafeFetchN_impl"); empty when the object or the symbol is not there.
     */
    public java.util.OptionalLong addressOf(String libraryFileName, String symbol) {
        try {
            AddressSpace.Located at = space.locateLibrary(libraryFileName);
            if (at == null || at.object() == null) return java.util.OptionalLong.empty();
            long start = at.object().symbols().startOf(symbol);
            return start < 0 ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(start - at.bias());
        } catch (RuntimeException | InternalError e) {
            return java.util.OptionalLong.empty();
        }
    }

    /** Why the object owning {@code address} has no symbols, or null (diagnostics and tests). */
    String failureAt(long address) {
        AddressSpace.Located at = space.locate(address);
        return at == null || at.object() == null ? null : at.object().failure();
    }

    /** The separate debug file used for the object owning {@code address}, or null. */
    String debugFileAt(long address) {
        AddressSpace.Located at = space.locate(address);
        return at == null || at.object() == null ? null : at.object().debugFile();
    }
}
