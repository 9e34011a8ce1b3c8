import ArgumentParser
import BaocuoDomain
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `baocuo classify` (CONTRACT §7): report JSON lines in, one routed-or-rejected line out per line.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Validate, classify and route report JSON lines offline (no broker).",
        discussion: """
            Reads report v1 JSON lines (stdin by default) and writes exactly one JSON line per input line, \
            in order: {"status":"routed",...} with the owner copy's routed v1 fields (receivedAt = the \
            report's reportedAt), or {"status":"rejected","line":N,"error":{"code":...,"detail":...}}. \
            Blank lines are skipped. Exit 0 when the input was read, even if lines were rejected.
            """
    )

    @OptionGroup var configOptions: ConfigOptions

    @Option(name: .long, help: "Input file (default: stdin).")
    var input: String?

    @Option(name: .long, help: "Output file (default: stdout).")
    var output: String?

    @Flag(
        name: .long,
        help: "Add an \"explanation\" to each routed line: the deciding rules, the model's probabilities and its strongest features.")
    var explain = false

    func run() throws {
        let configuration = try configOptions.load()
        let inputFD = try input.map { try openFile($0, flags: O_RDONLY) } ?? STDIN_FILENO
        let outputFD = try output.map { try openFile($0, flags: O_WRONLY | O_CREAT | O_TRUNC) } ?? STDOUT_FILENO
        defer {
            if input != nil { close(inputFD) }
            if output != nil { close(outputFD) }
        }
        var classifier = OfflineClassifier(configuration: configuration, explains: explain)
        var reader = LineReader(fd: inputFD, maxLineBytes: configuration.settings.limits.maxRecordBytes)
        var writer = OutputWriter(fd: outputFD)
        do {
            try reader.forEachLine { lineNumber, line in
                classifier.classify(line, lineNumber: lineNumber, to: &writer.buffer)
                try writer.flushIfFull()
            }
            try writer.flush()
        } catch {
            throw RuntimeError("\(error)")
        }
    }

    private func openFile(_ path: String, flags: Int32) throws -> Int32 {
        let fd = open(path, flags | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RuntimeError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        return fd
    }
}

/// The per-line work of `baocuo classify`: the same routing engine and encoder as the worker.
struct OfflineClassifier {
    let engine: RoutingEngine
    let encoder: RoutedRecordEncoder
    let maxRecordBytes: Int
    let explains: Bool
    /// Reused for every line: its tape storage outlives each record.
    private var parser = JSONParser()

    init(configuration: DomainConfiguration, explains: Bool = false) {
        self.explains = explains
        engine = RoutingEngine(configuration: configuration)
        encoder = RoutedRecordEncoder(configuration: configuration)
        maxRecordBytes = configuration.settings.limits.maxRecordBytes
    }

    mutating func classify(_ line: InputLine, lineNumber: Int, to out: inout [UInt8]) {
        switch line {
        case .tooLong(let byteCount):
            appendRejection(
                Rejection(.tooLarge, "record is \(byteCount) bytes; the limit is \(maxRecordBytes)"),
                lineNumber: lineNumber, to: &out
            )
        case .bytes(let bytes):
            guard !Self.isBlank(bytes) else { return }
            switch engine.route(bytes, receivedAt: nil, using: &parser) {
            case .routed(let routed):
                encoder.append(
                    routed, role: .owner, originalReport: bytes,
                    leadingFields: #""status":"routed","#, lineNumber: lineNumber, to: &out)
                if explains { appendExplanation(of: routed.report, to: &out) }
                out.append(0x0A)
            case .rejected(let rejection):
                appendRejection(rejection, lineNumber: lineNumber, to: &out)
            }
        }
    }

    /// Replaces the routed line's closing brace with `,"explanation":{…}}`.
    private func appendExplanation(of report: Report, to out: inout [UInt8]) {
        let explanation = engine.classifier.explain(report.classificationInput)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let json = try? encoder.encode(explanation), out.last == UInt8(ascii: "}") else { return }
        out.removeLast()
        out.append(contentsOf: #","explanation":"#.utf8)
        out.append(contentsOf: json)
        out.append(UInt8(ascii: "}"))
    }

    private func appendRejection(_ rejection: Rejection, lineNumber: Int, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"status":"rejected","line":"#.utf8)
        out.append(contentsOf: String(lineNumber).utf8)
        out.append(contentsOf: #","error":{"code":""#.utf8)
        out.append(contentsOf: rejection.code.rawValue.utf8)
        out.append(contentsOf: #"","detail":"#.utf8)
        JSONWriter.appendString(rejection.detail, to: &out)
        out.append(contentsOf: "}}\n".utf8)
    }

    private static func isBlank(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }
}
