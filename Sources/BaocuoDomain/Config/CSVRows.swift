/// The data rows of a small, unquoted, comma-separated configuration file: a fixed header,
/// then one record per line. Blank lines are skipped; CRLF and a UTF-8 byte-order mark are
/// tolerated. Quoting is not supported — no value in our config files contains a comma, and a
/// stray comma shows up as a wrong column count instead of being silently absorbed.
struct CSVRows {
    struct Row {
        /// 1-based line number in the file.
        var line: Int
        var fields: [Substring]
    }

    let rows: [Row]

    /// Splits `text` and checks that it starts with exactly `header` and that every row has
    /// as many columns as the header.
    init(_ text: String, source: String, header: [String]) throws(ConfigError) {
        var rows: [Row] = []
        var sawHeader = false
        var lineNumber = 0
        // "\r\n" is a single Character in Swift, so splitting on isNewline handles CRLF too.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            var line = rawLine
            if lineNumber == 1, line.first == "\u{FEFF}" { line = line.dropFirst() }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard sawHeader else {
                guard fields.map(String.init) == header else {
                    throw ConfigError(
                        file: source, line: lineNumber,
                        reason: "expected the header \"\(header.joined(separator: ","))\"")
                }
                sawHeader = true
                continue
            }
            guard fields.count == header.count else {
                throw ConfigError(
                    file: source, line: lineNumber,
                    reason: "expected \(header.count) columns (\(header.joined(separator: ","))), found \(fields.count)")
            }
            rows.append(Row(line: lineNumber, fields: fields))
        }
        guard sawHeader else {
            throw ConfigError(file: source, reason: "empty file: expected the header \"\(header.joined(separator: ","))\"")
        }
        self.rows = rows
    }
}
