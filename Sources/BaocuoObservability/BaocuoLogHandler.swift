import BaocuoDomain
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A swift-log handler writing one line per event to standard error, as text or JSON lines.
///
/// Person IDs must never reach a log. Code never logs them on purpose; as a last line of defence,
/// every message and metadata value passes through `PersonIDRedactor`, which masks anything shaped
/// like an 18-character resident ID.
public struct BaocuoLogHandler: LogHandler {
    /// Metadata added to every event of this handler (swift-log `LogHandler`).
    public var metadata: Logger.Metadata = [:]
    /// Events below this level are dropped.
    public var logLevel: Logger.Level
    private let label: String
    private let format: BaocuoSettings.LogFormat
    private let utcOffsetSeconds: Int

    /// `utcOffsetSeconds`: the zone of the timestamps (Asia/Shanghai by default, as every time in Baocuo).
    public init(label: String, level: Logger.Level, format: BaocuoSettings.LogFormat, utcOffsetSeconds: Int = 8 * 3600) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    /// One metadata value of the handler.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes `event` as one line (text or JSON), person IDs masked, to standard error.
    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let time = Self.now(utcOffsetSeconds: utcOffsetSeconds)
        let message = PersonIDRedactor.redact(event.message.description)
        var line: String
        switch format {
        case .text:
            line = "\(time) \(event.level) \(label): \(message)"
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
                line += " \(key)=\(PersonIDRedactor.redact(value.description))"
            }
        case .json:
            line = #"{"time":"\#(time)","level":"\#(event.level)","logger":"# + Self.quoted(label) + #","message":"# + Self.quoted(message)
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
                line += "," + Self.quoted(key) + ":" + Self.quoted(PersonIDRedactor.redact(value.description))
            }
            line += "}"
        }
        line += "\n"
        Self.writeLock.withLock { _ in
            line.withUTF8 { bytes in
                var written = 0
                while written < bytes.count {
                    let result = write(STDERR_FILENO, bytes.baseAddress! + written, bytes.count - written)
                    if result <= 0 { break }
                    written += result
                }
            }
        }
    }

    private static let writeLock = Mutex(())

    private static func now(utcOffsetSeconds: Int) -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let millis = Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
        return Timestamp(millisecondsSinceEpoch: millis).rfc3339(utcOffsetSeconds: utcOffsetSeconds)
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Masks substrings shaped like resident IDs: 17 digits followed by a digit or X, not part of a
/// longer run of digits. Kept independent of the domain so logging has no dependencies.
public enum PersonIDRedactor {
    /// `text` with every resident-ID-shaped run replaced by a mask; unchanged when it has none.
    public static func redact(_ text: String) -> String {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 18 else { return text }
        var out = utf8
        var changed = false
        var index = 0
        while index + 18 <= utf8.count {
            let precededByDigit = index > 0 && isDigit(utf8[index - 1])
            if !precededByDigit, (0..<17).allSatisfy({ isDigit(utf8[index + $0]) }),
                isDigit(utf8[index + 17]) || utf8[index + 17] == UInt8(ascii: "X") || utf8[index + 17] == UInt8(ascii: "x"),
                index + 18 == utf8.count || !isDigit(utf8[index + 18])
            {
                for offset in 6..<14 { out[index + offset] = UInt8(ascii: "*") }
                changed = true
                index += 18
            } else {
                index += 1
            }
        }
        return changed ? String(decoding: out, as: UTF8.self) : text
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
}
