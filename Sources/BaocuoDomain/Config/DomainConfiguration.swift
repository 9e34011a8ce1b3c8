import Foundation

/// Everything the domain reads from a `Config/` folder, loaded and validated together so that a
/// bad file fails fast, naming the file, the line and the reason.
public struct DomainConfiguration: Sendable {
    /// The service settings file in the configuration folder.
    public static let settingsFile = "baocuo.yaml"
    /// The region table file: 6-digit codes and their pooling regions.
    public static let regionsFile = "regions.csv"
    /// The working-day calendar file: the published holiday and make-up working days.
    public static let calendarFile = "calendar.csv"
    /// The classification rules file.
    public static let rulesFile = "classification.yaml"

    /// The configuration folder the files were read from.
    public let directory: String
    /// The service settings from `baocuo.yaml` and the environment.
    public let settings: BaocuoSettings
    /// The pooling regions from `regions.csv`.
    public let regions: RegionTable
    /// The working-day calendar from `calendar.csv`, with the schedule from the settings.
    public let calendar: WorkCalendar
    /// The classifier built from `classification.yaml`.
    public let classifier: Classifier

    /// A configuration of already loaded parts (tests); ``load(directory:environment:warn:)`` reads a folder.
    public init(directory: String, settings: BaocuoSettings, regions: RegionTable, calendar: WorkCalendar, classifier: Classifier) {
        self.directory = directory
        self.settings = settings
        self.regions = regions
        self.calendar = calendar
        self.classifier = classifier
    }

    /// Loads `baocuo.yaml`, `regions.csv`, `calendar.csv`, `classification.yaml` and (if present)
    /// `classifier-model.tsv` from `directory`.
    /// `warn` receives one-off warnings (e.g. a year beyond the holiday calendar).
    public static func load(
        directory: String,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        warn: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(ConfigError) -> DomainConfiguration {
        let settingsPath = path(directory, settingsFile)
        let settings = try BaocuoSettings.load(yaml: read(settingsPath), source: settingsPath, environment: environment)
        let regionsPath = path(directory, regionsFile)
        let regions = try RegionTable(csv: read(regionsPath), source: regionsPath)
        let calendarPath = path(directory, calendarFile)
        let calendar = try WorkCalendar(csv: read(calendarPath), source: calendarPath, schedule: settings.schedule, warn: warn)
        let classifier = try loadClassifier(directory: directory)
        return DomainConfiguration(directory: directory, settings: settings, regions: regions, calendar: calendar, classifier: classifier)
    }

    /// The same folder with the region table, the calendar and the rules read again (SIGHUP
    /// reload); settings stay as they were, because the running clients were built from them (the
    /// calendar keeps the loaded schedule times and zone).
    public func reloadingRulesRegionsAndCalendar(
        warn: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(ConfigError) -> DomainConfiguration {
        let regionsPath = Self.path(directory, Self.regionsFile)
        let regions = try RegionTable(csv: Self.read(regionsPath), source: regionsPath)
        let calendarPath = Self.path(directory, Self.calendarFile)
        let calendar = try WorkCalendar(csv: Self.read(calendarPath), source: calendarPath, schedule: settings.schedule, warn: warn)
        let classifier = try Self.loadClassifier(directory: directory)
        return DomainConfiguration(directory: directory, settings: settings, regions: regions, calendar: calendar, classifier: classifier)
    }

    /// The rules of `classification.yaml` with the model of `classifier-model.tsv`, or the rules
    /// alone when the folder has no model file.
    static func loadClassifier(directory: String) throws(ConfigError) -> Classifier {
        let modelPath = path(directory, ClassifierModel.fileName)
        let model =
            try FileManager.default.fileExists(atPath: modelPath)
            ? ClassifierModel(text: read(modelPath), source: modelPath) : nil
        let rulesPath = path(directory, rulesFile)
        do {
            return try Classifier(rulesYAML: read(rulesPath), source: rulesPath, model: model)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(file: rulesPath, reason: "\(error)")
        }
    }

    /// The `Config/` folder to use when none is given: `$BAOCUO_CONFIG_DIR`, else `./Config`, else the
    /// `Config/` folder of the source checkout this binary was built from.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit = environment["BAOCUO_CONFIG_DIR"], !explicit.isEmpty { return explicit }
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: path("Config", settingsFile)) { return "Config" }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }  // …/Sources/BaocuoDomain/Config/this file
        let checkout = url.appendingPathComponent("Config").path
        return fileManager.fileExists(atPath: path(checkout, settingsFile)) ? checkout : "Config"
    }

    /// `file` in `directory`, with exactly one `/` between them.
    public static func path(_ directory: String, _ file: String) -> String {
        directory.hasSuffix("/") ? directory + file : directory + "/" + file
    }

    /// The UTF-8 text of `path`; a ``ConfigError`` naming the file when it is missing or not UTF-8.
    public static func read(_ path: String) throws(ConfigError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, reason: "cannot read the file (missing or not readable)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, reason: "not valid UTF-8")
        }
        return text
    }
}
