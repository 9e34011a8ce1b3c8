import ArgumentParser
import BaocuoDomain

/// `baocuo calendar --at TIMESTAMP` (CONTRACT §7): the weekly cycle a report received then falls into.
struct CalendarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar",
        abstract: "Print the intake batch, intake time and due time for a receive time.",
        discussion: #"Prints {"receivedAt":...,"intakeBatch":"YYYY-Www","intakeAt":...,"dueBy":...} (Asia/Shanghai)."#
    )

    @Option(name: .long, help: "Receive time, RFC 3339 with an offset, e.g. 2026-11-23T09:15:00+08:00.")
    var at: String

    @OptionGroup var configOptions: ConfigOptions

    func validate() throws {
        guard Timestamp.parseRFC3339(at) != nil else {
            throw ValidationError("--at: '\(at)' is not an RFC 3339 timestamp with an offset (e.g. 2026-11-23T09:15:00+08:00)")
        }
    }

    func run() throws {
        let configuration = try configOptions.load()
        let receivedAt = Timestamp.parseRFC3339(at)!
        let offset = configuration.settings.schedule.utcOffsetSeconds
        let cycle = configuration.calendar.cycle(receivedAt: receivedAt)
        print(#"{"receivedAt":"\#(receivedAt.rfc3339(utcOffsetSeconds: offset))","intakeBatch":"\#(cycle.week)","intakeAt":"\#(cycle.intakeAt.rfc3339(utcOffsetSeconds: offset))","dueBy":"\#(cycle.dueBy.rfc3339(utcOffsetSeconds: offset))"}"#)
    }
}
