import ArgumentParser
import BaocuoDomain

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@main
struct Baocuo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baocuo",
        abstract: "Routes cross-region medical-insurance settlement failure reports (异地就医直接结算报错) over Kafka.",
        version: BuildInfo.versionLine,
        subcommands: [
            RunCommand.self,
            DevClusterCommand.self,
            DemoCommand.self,
            ClassifyCommand.self,
            ConfigCommand.self,
            CalendarCommand.self,
            BatchCommand.self,
            ReplayCommand.self,
            RulesCommand.self,
            TopicsCommand.self,
        ]
    )
}

/// `--config DIR`, shared by every command that reads `Config/`.
struct ConfigOptions: ParsableArguments {
    @Option(
        name: .long,
        help: """
            Configuration folder (baocuo.yaml, regions.csv, calendar.csv, classification.yaml). \
            Default: $BAOCUO_CONFIG_DIR, else ./Config.
            """)
    var config: String?

    func load(warn: @escaping @Sendable (String) -> Void = warnOnStandardError) throws -> DomainConfiguration {
        do {
            return try DomainConfiguration.load(directory: config ?? DomainConfiguration.defaultDirectory(), warn: warn)
        } catch {
            throw RuntimeError("configuration: \(error)")
        }
    }
}

@Sendable func warnOnStandardError(_ message: String) {
    var errorStream = StandardError()
    print("baocuo: warning: \(message)", to: &errorStream)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var string = string
        string.withUTF8 { bytes in writeToStandardError(bytes.baseAddress, bytes.count) }
    }
}
