#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One line of a streamed input, without its `\n`.
enum InputLine {
    case bytes(UnsafeRawBufferPointer)
    /// Longer than the limit: its bytes were skipped, not buffered.
    case tooLong(byteCount: Int)
}

struct IOError: Error, CustomStringConvertible {
    var description: String
}

/// Reads `\n`-separated lines from a file descriptor in large chunks with bounded memory: a line
/// longer than `maxLineBytes` is skipped as it streams past instead of being held whole.
struct LineReader {
    private let fd: Int32
    private let maxLineBytes: Int
    private var storage: [UInt8]
    private var start = 0
    private var end = 0
    private var atEOF = false

    init(fd: Int32, maxLineBytes: Int, chunkBytes: Int = 1 << 20) {
        self.fd = fd
        self.maxLineBytes = maxLineBytes
        self.storage = [UInt8](repeating: 0, count: max(chunkBytes, maxLineBytes + 1) * 2)
    }

    /// Calls `body` for every line, in order, with the 1-based line number.
    mutating func forEachLine(_ body: (Int, InputLine) throws -> Void) throws {
        var lineNumber = 0
        var skipping: Int?  // bytes of an over-long line seen so far
        var scanFrom = 0
        while true {
            let newline: Int? = storage.withUnsafeBytes { raw in
                guard scanFrom < end, let base = raw.baseAddress,
                    let hit = memchr(base + scanFrom, 0x0A, end - scanFrom)
                else { return nil }
                return base.distance(to: UnsafeRawPointer(hit))
            }
            if let newline {
                lineNumber += 1
                if let skipped = skipping {
                    try body(lineNumber, .tooLong(byteCount: skipped + newline - start))
                    skipping = nil
                } else {
                    try storage.withUnsafeBytes { raw in
                        try body(lineNumber, .bytes(UnsafeRawBufferPointer(rebasing: raw[start..<newline])))
                    }
                }
                start = newline + 1
                scanFrom = start
                continue
            }
            if end - start > maxLineBytes || skipping != nil {
                skipping = (skipping ?? 0) + (end - start)
                start = 0
                end = 0
            }
            if atEOF {
                if start < end || skipping != nil {
                    lineNumber += 1
                    if let skipped = skipping {
                        try body(lineNumber, .tooLong(byteCount: skipped + end - start))
                    } else {
                        try storage.withUnsafeBytes { raw in
                            try body(lineNumber, .bytes(UnsafeRawBufferPointer(rebasing: raw[start..<end])))
                        }
                    }
                }
                return
            }
            compact()
            scanFrom = end
            try fill()
        }
    }

    private mutating func compact() {
        guard start > 0 else { return }
        let count = end - start
        storage.withUnsafeMutableBytes { raw in
            if count > 0 { raw.baseAddress!.copyMemory(from: raw.baseAddress! + start, byteCount: count) }
        }
        start = 0
        end = count
    }

    private mutating func fill() throws {
        let capacity = storage.count - end
        let result = storage.withUnsafeMutableBytes { raw in
            read(fd, raw.baseAddress! + end, capacity)
        }
        if result < 0 {
            if errno == EINTR { return }
            throw IOError(description: "read failed: \(String(cString: strerror(errno)))")
        }
        if result == 0 { atEOF = true }
        end += result
    }
}

/// Buffers output bytes and writes them to a file descriptor in large blocks.
struct OutputWriter {
    private let fd: Int32
    private let flushThreshold: Int
    var buffer: [UInt8] = []

    init(fd: Int32, flushThreshold: Int = 1 << 20) {
        self.fd = fd
        self.flushThreshold = flushThreshold
        buffer.reserveCapacity(flushThreshold + (64 << 10))
    }

    mutating func flushIfFull() throws {
        if buffer.count >= flushThreshold { try flush() }
    }

    mutating func flush() throws {
        var written = 0
        while written < buffer.count {
            let result = buffer.withUnsafeBytes { raw in
                write(fd, raw.baseAddress! + written, raw.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw IOError(description: "write failed: \(String(cString: strerror(errno)))")
            }
            written += result
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
