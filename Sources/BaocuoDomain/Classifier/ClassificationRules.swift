import Yams

/// The classification rules of `classification.yaml`, checked and normalised, before they
/// are compiled into the classifier's tables. The file's format is described in its own
/// header comment; this type enforces it and reports every mistake with its line.
struct ClassificationRules {
    /// A category wins only with at least this score…
    var threshold: Double
    /// …and at least this much more than the runner-up.
    var margin: Double
    /// With a model, a rule of at least this weight decides on its own (infinity: none does).
    var decisiveWeight: Double
    /// Guidance per category; every category has some.
    var actions: [Category: [String]]
    /// Keyword groups in normal form. A group is satisfied when any of its keywords occurs.
    /// Equal groups are stored once, so a term set used by many rules is matched once.
    var groups: [[String]]
    var rules: [Rule]
    var boosts: [Boost]

    struct Rule {
        var id: String
        var category: Category
        var weight: Double
        /// Indices into `groups`; all must be satisfied.
        var required: [Int]
        /// Index into `groups` of keywords that stop the rule.
        var veto: Int?
        /// Empty: the code is not looked at; otherwise one must match.
        var codes: [CodePattern]
        var context: ContextFilter
    }

    /// A score adjustment for a category that already has a matching rule.
    struct Boost {
        var category: Category
        var add: Double
        var context: ContextFilter
    }

    /// A failure code in normal form; with `isPrefix`, any code starting with it matches.
    struct CodePattern: Hashable {
        var bytes: [UInt8]
        var isPrefix: Bool
    }

    /// Required values of the report's context fields; an empty set accepts anything.
    struct ContextFilter {
        var stages: Set<FailureStage> = []
        var visitTypes: Set<VisitType> = []
        var filingTypes: Set<FilingType> = []
        var isEmpty: Bool { stages.isEmpty && visitTypes.isEmpty && filingTypes.isEmpty }
    }

    /// The rule id reported when no category is confident.
    static let unclassifiedRuleId = "unclassified"
    /// The rule id reported when the model decides a category none of whose rules matched.
    static let modelRuleId = "model"
}

extension ClassificationRules {
    /// Parses and checks the rules text; `source` names it in errors.
    init(yaml: String, source: String) throws {
        var parser = RulesParser(source: source)
        self = try parser.parse(yaml)
    }
}

/// Reads the YAML node tree into `ClassificationRules`, one section at a time.
private struct RulesParser {
    let source: String
    private var groups: [[String]] = []
    private var groupIndex: [[String]: Int] = [:]
    private var termSets: [String: Int] = [:]

    init(source: String) {
        self.source = source
    }

    mutating func parse(_ yaml: String) throws -> ClassificationRules {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw ConfigError(file: source, line: nil, reason: "the rules file is empty")
            }
            root = node
        } catch let error as YamlError {
            throw ConfigError(file: source, line: Self.line(of: error), reason: "invalid YAML: \(Self.problem(of: error))")
        }
        let top = try fields(
            of: root, allowed: ["format", "decision", "terms", "categories", "rules", "boosts"],
            required: ["format", "decision", "categories", "rules"], what: "the rules file")

        let format = try string(top["format"]!, what: "format")
        guard format == "1" else { throw error(at: top["format"], "unsupported format \(format); this version reads format 1") }

        let decision = try fields(
            of: top["decision"]!, allowed: ["threshold", "margin", "decisive"], required: ["threshold", "margin"],
            what: "decision")
        let decisiveWeight = try decision["decisive"].map { try number($0, what: "decision.decisive") } ?? .infinity
        let threshold = try number(decision["threshold"]!, what: "decision.threshold")
        let margin = try number(decision["margin"]!, what: "decision.margin")
        guard threshold > 0 else { throw error(at: decision["threshold"], "decision.threshold must be greater than 0") }
        guard margin >= 0 else { throw error(at: decision["margin"], "decision.margin must not be negative") }

        if let terms = top["terms"] {
            for (nameNode, listNode) in try mapping(terms, what: "terms") {
                let name = try string(nameNode, what: "a term set name")
                termSets[name] = try internGroup(keywords(listNode, what: "term set \(name)"))
            }
        }

        let actions = try parseActions(top["categories"]!)

        var rules: [ClassificationRules.Rule] = []
        var ruleLines: [String: Int] = [:]
        for ruleNode in try sequence(top["rules"]!, what: "rules") {
            let rule = try parseRule(ruleNode)
            if let first = ruleLines[rule.id] {
                throw error(at: ruleNode, "rule id \(rule.id) is already used by the rule at line \(first)")
            }
            ruleLines[rule.id] = ruleNode.mark?.line ?? 0
            rules.append(rule)
        }
        guard !rules.isEmpty else { throw error(at: top["rules"], "there are no rules") }

        let boosts = try top["boosts"].map { try sequence($0, what: "boosts").map(parseBoost) } ?? []

        return ClassificationRules(
            threshold: threshold, margin: margin, decisiveWeight: decisiveWeight, actions: actions,
            groups: groups, rules: rules, boosts: boosts)
    }

    private func parseActions(_ node: Node) throws -> [Category: [String]] {
        var actions: [Category: [String]] = [:]
        for (keyNode, valueNode) in try mapping(node, what: "categories") {
            let category = try self.category(keyNode)
            let entry = try fields(of: valueNode, allowed: ["actions"], required: ["actions"], what: "category \(category.rawValue)")
            let list = try sequence(entry["actions"]!, what: "actions").map { try string($0, what: "an action") }
            guard !list.isEmpty else { throw error(at: entry["actions"], "category \(category.rawValue) needs at least one action") }
            actions[category] = list
        }
        if let missing = Category.allCases.first(where: { actions[$0] == nil }) {
            throw error(at: node, "category \(missing.rawValue) has no actions; every category needs guidance")
        }
        return actions
    }

    private mutating func parseRule(_ node: Node) throws -> ClassificationRules.Rule {
        let allowed: Set = ["id", "category", "weight", "any", "all", "none", "codes", "stages", "visitTypes", "filingTypes"]
        let entry = try fields(of: node, allowed: allowed, required: ["id", "category", "weight"], what: "a rule")
        let id = try string(entry["id"]!, what: "a rule id")
        guard !id.isEmpty, id.utf8.allSatisfy(Self.isIdByte) else {
            throw error(at: entry["id"], "rule id \(id) must be letters, digits, '.', '_' or '-'")
        }
        guard id != ClassificationRules.unclassifiedRuleId, id != ClassificationRules.modelRuleId else {
            throw error(at: entry["id"], "rule id \(id) is reserved (unclassified reports, model decisions)")
        }
        let category = try self.category(entry["category"]!)
        guard category != .unclassified else {
            throw error(at: entry["category"], "rules cannot target UNCLASSIFIED: it is what no confident rule means")
        }
        let weight = try number(entry["weight"]!, what: "weight")
        guard weight > 0 else { throw error(at: entry["weight"], "weight must be greater than 0") }

        var required: [Int] = []
        if let any = entry["any"] {
            required.append(try group(any, what: "any"))
        }
        if let all = entry["all"] {
            let items = try sequence(all, what: "all")
            guard !items.isEmpty else { throw error(at: all, "all needs at least one group") }
            required += try items.map { try group($0, what: "a group of all") }
        }
        let veto = try entry["none"].map { try group($0, what: "none") }
        let codes = try entry["codes"].map { try sequence($0, what: "codes").map(codePattern) } ?? []
        guard !required.isEmpty || !codes.isEmpty else {
            throw error(at: node, "rule \(id) needs keywords (any/all) or codes; context alone is a boost, not evidence")
        }
        return ClassificationRules.Rule(
            id: id, category: category, weight: weight, required: required, veto: veto,
            codes: codes, context: try context(entry))
    }

    private func parseBoost(_ node: Node) throws -> ClassificationRules.Boost {
        let entry = try fields(
            of: node, allowed: ["category", "add", "stages", "visitTypes", "filingTypes"],
            required: ["category", "add"], what: "a boost")
        let category = try self.category(entry["category"]!)
        let add = try number(entry["add"]!, what: "add")
        let context = try context(entry)
        guard !context.isEmpty else { throw error(at: node, "a boost needs stages, visitTypes or filingTypes") }
        return ClassificationRules.Boost(category: category, add: add, context: context)
    }

    private func context(_ entry: [String: Node]) throws -> ClassificationRules.ContextFilter {
        var filter = ClassificationRules.ContextFilter()
        filter.stages = try enumSet(entry["stages"], what: "stages")
        filter.visitTypes = try enumSet(entry["visitTypes"], what: "visitTypes")
        filter.filingTypes = try enumSet(entry["filingTypes"], what: "filingTypes")
        return filter
    }

    private func enumSet<Value: RawRepresentable & CaseIterable & Hashable>(_ node: Node?, what: String) throws -> Set<Value>
    where Value.RawValue == String {
        guard let node else { return [] }
        var values: Set<Value> = []
        for item in try sequence(node, what: what) {
            let raw = try string(item, what: what)
            guard let value = Value(rawValue: raw) else {
                let known = Value.allCases.map(\.rawValue).joined(separator: ", ")
                throw error(at: item, "unknown value \(raw) in \(what); known: \(known)")
            }
            values.insert(value)
        }
        return values
    }

    /// A group is an inline list of keywords or the name of a set under `terms`.
    private mutating func group(_ node: Node, what: String) throws -> Int {
        if let name = node.scalar?.string {
            guard let index = termSets[name] else {
                throw error(at: node, "\(name) in \(what) is not a term set; write keywords as a list: [\(name)]")
            }
            return index
        }
        return try internGroup(keywords(node, what: what))
    }

    private mutating func internGroup(_ keywords: [String]) -> Int {
        let key = Array(Set(keywords)).sorted()
        if let index = groupIndex[key] { return index }
        groups.append(key)
        groupIndex[key] = groups.count - 1
        return groups.count - 1
    }

    private func keywords(_ node: Node, what: String) throws -> [String] {
        let items = try sequence(node, what: what)
        guard !items.isEmpty else { throw error(at: node, "\(what) has no keywords") }
        return try items.map { item in
            let text = try string(item, what: "a keyword")
            let normal = MessageNormalizer.normalize(text)
            guard !normal.isEmpty else {
                throw error(at: item, "keyword \"\(text)\" is empty once spaces and punctuation are removed")
            }
            return normal
        }
    }

    private func codePattern(_ node: Node) throws -> ClassificationRules.CodePattern {
        let text = try string(node, what: "a code")
        let isPrefix = text.hasSuffix("*")
        let normal = MessageNormalizer.normalize(isPrefix ? String(text.dropLast()) : text)
        guard !normal.isEmpty else { throw error(at: node, "code \"\(text)\" is empty once spaces and punctuation are removed") }
        return ClassificationRules.CodePattern(bytes: Array(normal.utf8), isPrefix: isPrefix)
    }

    private func category(_ node: Node) throws -> Category {
        let raw = try string(node, what: "a category")
        guard let category = Category(rawValue: raw) else {
            throw error(at: node, "unknown category \(raw); known: \(Category.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return category
    }

    // MARK: YAML shapes

    private func fields(of node: Node, allowed: Set<String>, required: [String], what: String) throws -> [String: Node] {
        var result: [String: Node] = [:]
        for (keyNode, value) in try mapping(node, what: what) {
            let key = try string(keyNode, what: "a key")
            guard allowed.contains(key) else {
                throw error(at: keyNode, "unknown key \(key) in \(what); allowed: \(allowed.sorted().joined(separator: ", "))")
            }
            result[key] = value
        }
        if let missing = required.first(where: { result[$0] == nil }) {
            throw error(at: node, "\(what) needs \(missing)")
        }
        return result
    }

    private func mapping(_ node: Node, what: String) throws -> Node.Mapping {
        guard let mapping = node.mapping else { throw error(at: node, "\(what) must be a mapping") }
        return mapping
    }

    private func sequence(_ node: Node, what: String) throws -> [Node] {
        guard let sequence = node.sequence else { throw error(at: node, "\(what) must be a list") }
        return Array(sequence)
    }

    private func string(_ node: Node, what: String) throws -> String {
        guard let scalar = node.scalar else { throw error(at: node, "\(what) must be a single value") }
        return scalar.string
    }

    private func number(_ node: Node, what: String) throws -> Double {
        guard let text = node.scalar?.string, let value = Double(text), value.isFinite else {
            throw error(at: node, "\(what) must be a number")
        }
        return value
    }

    private func error(at node: Node?, _ reason: String) -> ConfigError {
        ConfigError(file: source, line: node?.mark?.line, reason: reason)
    }

    private static func isIdByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            true
        default:
            false
        }
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        case .duplicatedKeysInMapping(_, let context): context.mark.line
        default: nil
        }
    }

    private static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _),
            .composer(let context, let problem, _, _):
            context.map { "\(problem) (\($0.text))" } ?? problem
        case .duplicatedKeysInMapping(let duplicates, _): "duplicate key \(duplicates.joined(separator: ", "))"
        default: "\(error)"
        }
    }
}
