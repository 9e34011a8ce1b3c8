// libFuzzer entry point for the domain's byte-level code. Compiled by Fuzz/run.sh together with
// the sources of Sources/BaocuoDomain into one module, so it reaches internal API without
// `@testable`. Every check traps (and so makes libFuzzer save the input) when an invariant of
// the decoder, engine or encoder does not hold.
import Foundation

/// The configuration from `$BAOCUO_CONFIG_DIR` (run.sh points it at the checkout's Config/).
private let configuration: DomainConfiguration = {
    do {
        return try DomainConfiguration.load(directory: DomainConfiguration.defaultDirectory(), environment: [:])
    } catch {
        fatalError("fuzz target: configuration does not load: \(error)")
    }
}()

private let engine = RoutingEngine(configuration: configuration)
private let encoder = RoutedRecordEncoder(configuration: configuration)
/// Formats every cycle per record: the reference for `encoder`'s precomputed cycle text.
private let formattingEncoder = RoutedRecordEncoder(
    classifier: configuration.classifier,
    utcOffsetSeconds: configuration.settings.schedule.utcOffsetSeconds)
/// Decoders may reject with these; `UNKNOWN_REGION` comes from the engine's region resolution.
private let engineCodes: Set<RejectCode> = [
    .invalidUTF8, .invalidJSON, .tooLarge, .unsupportedSchema,
    .missingField, .invalidField, .unknownRegion,
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    checkParser(bytes)
    checkEngine(bytes)
    checkResolution(bytes)
    checkFieldParsers(bytes)
    return 0
}

/// The parser agrees with the strict UTF-8 validator, its tape is well formed, and every
/// string it accepted unescapes to valid UTF-8.
private func checkParser(_ bytes: UnsafeRawBufferPointer) {
    var parser = JSONParser()
    switch parser.parse(bytes) {
    case .success(let document):
        precondition(UTF8Validation.firstInvalidOffset(in: bytes) == nil, "accepted invalid UTF-8")
        precondition(document.tape.count <= JSONParser.defaultMaxValues, "tape beyond the value limit")
        precondition(document.node(document.root).subtreeEnd == document.tape.count, "root does not span the tape")
        for index in document.tape.indices where document.tape[index].kind == .string {
            var unescaped: [UInt8] = []
            document.appendStringBytes(JSONValue(index: index), to: &unescaped)
            precondition(
                unescaped.withUnsafeBytes { UTF8Validation.firstInvalidOffset(in: $0) } == nil,
                "a string unescapes to invalid UTF-8")
        }
    case .failure(let error):
        precondition(!error.detail.isEmpty, "empty parse error detail")
        let invalidUTF8 = UTF8Validation.firstInvalidOffset(in: bytes) != nil
        precondition(invalidUTF8 == (error.kind == .invalidUTF8), "UTF-8 verdict disagrees with the validator")
    }
}

/// The engine answers every input; a rejection is precise and bounded; a routed report
/// encodes to strict JSON, and the ops copy hides the person ID.
private func checkEngine(_ bytes: UnsafeRawBufferPointer) {
    let outcome = engine.route(bytes, receivedAt: nil)
    var parser = JSONParser()
    let again = engine.decoder.decode(bytes, using: &parser)
    switch outcome {
    case .rejected(let rejection):
        precondition(engineCodes.contains(rejection.code), "unexpected reject code \(rejection.code)")
        precondition(!rejection.detail.isEmpty && rejection.detail.count <= 240, "reject detail empty or unbounded")
        if rejection.code != .unknownRegion, case .failure(let decoded) = again {
            precondition(decoded == rejection, "a reused parser answers differently")
        }
    case .routed(let routed):
        guard case .success = again else { preconditionFailure("a reused parser rejects a routed report") }
        for role in [RoutedRole.owner, .cc, .ops] {
            var out: [UInt8] = []
            encoder.append(
                routed, role: role, originalReport: bytes, leadingFields: #""status":"routed","#,
                lineNumber: 1, to: &out)
            var formatted: [UInt8] = []
            formattingEncoder.append(
                routed, role: role, originalReport: bytes, leadingFields: #""status":"routed","#,
                lineNumber: 1, to: &formatted)
            precondition(out == formatted, "precomputed cycle text differs from the formatted one")
            let parsed = out.withUnsafeBytes { parser.parse($0, maxDepth: 64, maxValues: .max) }
            guard case .success = parsed else { preconditionFailure("routed \(role) record is not strict JSON") }
            // The header's reportId is the record's identity and stays as sent, even when a
            // hospital wrote the person ID into it.
            if role == .ops, let personId = routed.report.personId, !routed.report.reportId.contains(personId) {
                precondition(
                    !out.withUnsafeBytes { $0.firstRange(of: Array(personId.utf8)) != nil },
                    "ops copy carries the person ID")
            }
        }
        let fixedReceipt = engine.route(bytes, receivedAt: Timestamp(millisecondsSinceEpoch: 1_795_000_000_000))
        guard case .routed = fixedReceipt else { preconditionFailure("routing depends on the receive time") }
    }
}

private func checkResolution(_ bytes: UnsafeRawBufferPointer) {
    if case .failure(let rejection) = ResolutionDecoder().decode(bytes) {
        precondition(!rejection.detail.isEmpty && rejection.detail.count <= 240, "resolution detail empty or unbounded")
    }
}

/// The text-level parsers on raw input: timestamps round-trip, the classifier takes any text.
private func checkFieldParsers(_ bytes: UnsafeRawBufferPointer) {
    if let timestamp = Timestamp.parseRFC3339(bytes) {
        let text = timestamp.rfc3339(utcOffsetSeconds: 8 * 3600)
        precondition(Timestamp.parseRFC3339(text) == timestamp, "timestamp does not round-trip: \(text)")
    }
    _ = DecimalAmount.isValid(bytes)
    _ = ResidentID.problem(bytes)
    guard UTF8Validation.firstInvalidOffset(in: bytes) == nil else { return }
    let text = String(decoding: bytes, as: UTF8.self)
    _ = configuration.classifier.classify(
        ClassificationInput(
            failureCode: text, failureMessage: text, failureStage: nil, visitType: nil, filingType: nil))
}
