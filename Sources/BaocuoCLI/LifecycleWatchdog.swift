import BaocuoDomain
import Dispatch
import Logging
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bounds `baocuo run`'s start-up and stop (issue 32): a process that never reaches "running" or
/// does not finish a stop is logged with what it is waiting for and exits 3, so that a supervisor
/// restarts it, instead of a process that serves nothing and ignores SIGTERM.
///
/// It runs on its own dispatch queue and watches SIGTERM/SIGINT with its own dispatch sources
/// (next to the service group's), so neither a starved cooperative pool nor a service group that
/// stopped listening for signals keeps it from firing.
final class LifecycleWatchdog: Sendable {
    /// The process exit status when the watchdog gives up.
    static let exitStatus: Int32 = 3

    private struct State {
        /// Start-up milestones not reached yet, in the order they were expected.
        var pendingMilestones: [String] = []
        /// Services whose `run` has been entered and has not returned.
        var runningServices: [String] = []
        var running = false
        var stopReason: String?
        var stopRequestedAt: DispatchTime?
    }

    /// The service whose stop is the worker's stop: once it has drained and committed, the others
    /// (the scheduler, whose emissions are safe to cut short, the endpoint, the reloader) are not
    /// waited for past the stop deadline.
    static let essentialService = "router"

    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "baocuo.lifecycle.watchdog")
    private let startTimeout: Duration
    private let stopTimeout: Duration
    private let logger: Logger
    private let onStopRequest: @Sendable () -> Void
    /// Kept alive for the process's life; touched only in ``arm()``.
    private struct SignalSource: @unchecked Sendable { let source: any DispatchSourceSignal }
    private let signalSources = Mutex<[SignalSource]>([])

    /// `onStopRequest`: called once, on the watchdog's queue, when SIGTERM or SIGINT arrives (the
    /// service group's own handling may not be installed yet or may have stopped listening).
    init(startTimeout: Duration, stopTimeout: Duration, logger: Logger, onStopRequest: @escaping @Sendable () -> Void = {}) {
        self.startTimeout = startTimeout
        self.stopTimeout = stopTimeout
        self.logger = logger
        self.onStopRequest = onStopRequest
    }

    /// Ends the process at once, with a last line giving the status and, after a stop request,
    /// how long the stop took as the process itself measured it (an observer's clock may lag).
    ///
    /// The Kafka clients are not released: the router has already committed and left its group,
    /// and destroying a librdkafka 2.16 handle whose brokers are down can block for seconds
    /// (measured: 8 s past the stop deadline with every broker down).
    func exit(_ status: Int32) -> Never {
        var metadata: Logger.Metadata = ["status": "\(status)"]
        if let stopStarted = state.withLock({ $0.stopRequestedAt }) {
            let nanoseconds = DispatchTime.now().uptimeNanoseconds - stopStarted.uptimeNanoseconds
            metadata["stopSeconds"] = "\(Double(nanoseconds) / 1e9)"
        }
        logger.info("baocuo run exiting", metadata: metadata)
        fflush(nil)  // every stdio stream; the log handler itself writes unbuffered
        _exit(status)
    }

    /// A start-up milestone that must be reached (``reached(_:)``) before the process is running.
    func expect(_ milestone: String) {
        state.withLock { $0.pendingMilestones.append(milestone) }
    }

    func reached(_ milestone: String) {
        let nowRunning = state.withLock { state -> Bool in
            guard let index = state.pendingMilestones.firstIndex(of: milestone) else { return false }
            state.pendingMilestones.remove(at: index)
            guard state.pendingMilestones.isEmpty, !state.running else { return false }
            state.running = true
            return true
        }
        if nowRunning { logger.info("baocuo run is running: every service started") }
    }

    func serviceStarted(_ name: String) {
        state.withLock { $0.runningServices.append(name) }
        reached("service \(name) started")
    }

    func serviceStopped(_ name: String) {
        let (stopStarted, reason) = state.withLock { state -> (DispatchTime?, String?) in
            if let index = state.runningServices.firstIndex(of: name) { state.runningServices.remove(at: index) }
            return (state.stopRequestedAt, state.stopReason)
        }
        // Only a requested stop (a signal) ends well this way; a failed router keeps its non-zero exit.
        guard name == Self.essentialService, let stopStarted, reason?.hasSuffix(" received") == true else { return }
        // Just before the watchdog's own deadline: a service still blocked then (a Kafka read
        // waiting for brokers that are down) does not turn a completed stop into a failed one.
        queue.asyncAfter(deadline: stopStarted + stopTimeout.dispatchInterval - .milliseconds(250)) { [self] in
            let still = state.withLock { $0.runningServices }
            guard !still.isEmpty else { return }
            logger.notice(
                "baocuo run stopped: the router has stopped; not waiting longer for services whose work is safe to cut short",
                metadata: ["waitingFor": "\(still.joined(separator: ", "))"])
            exit(0)
        }
    }

    /// Starts the start-up deadline and the signal watch. Call before anything that may block.
    func arm() {
        let sources = [SIGTERM, SIGINT].map { signal -> SignalSource in
            let source = DispatchSource.makeSignalSource(signal: signal, queue: queue)
            source.setEventHandler { [self] in
                stopRequested(reason: signal == SIGTERM ? "SIGTERM received" : "SIGINT received")
                onStopRequest()
            }
            source.resume()
            return SignalSource(source: source)
        }
        signalSources.withLock { $0 = sources }
        queue.asyncAfter(deadline: .now() + startTimeout.dispatchInterval) { [self] in
            let (running, stopping, pending) = state.withLock { ($0.running, $0.stopReason != nil, $0.pendingMilestones) }
            // A stop during start-up has its own deadline.
            guard !running, !stopping else { return }
            logger.critical(
                "baocuo run did not start in time; exiting so that it is restarted",
                metadata: [
                    "timeout": "\(startTimeout)", "waitingFor": "\(pending.joined(separator: "; "))",
                ])
            exit(Self.exitStatus)
        }
    }

    /// Starts the stop deadline (once; later requests keep the first deadline).
    func stopRequested(reason: String) {
        let first = state.withLock { state -> Bool in
            guard state.stopReason == nil else { return false }
            state.stopReason = reason
            state.stopRequestedAt = .now()
            return true
        }
        guard first else { return }
        logger.notice("stopping: \(reason)", metadata: ["reason": "\(reason)", "deadline": "\(stopTimeout)"])
        queue.asyncAfter(deadline: .now() + stopTimeout.dispatchInterval) { [self] in
            let still = state.withLock { $0.runningServices }
            logger.critical(
                "baocuo run did not stop in time; exiting, uncommitted records will be routed again",
                metadata: [
                    "timeout": "\(stopTimeout)", "reason": "\(reason)", "waitingFor": "\(still.joined(separator: ", "))",
                ])
            exit(Self.exitStatus)
        }
    }
}

/// Runs a service with a log line at its start and end, its failure logged as an error (the
/// service group logs it only at debug), and the watchdog told.
struct WatchedService: Service, CustomStringConvertible {
    let name: String
    let service: any Service
    let watchdog: LifecycleWatchdog
    let logger: Logger
    var description: String { name }

    func run() async throws {
        logger.info("service starting", metadata: ["service": "\(name)"])
        watchdog.serviceStarted(name)
        defer { watchdog.serviceStopped(name) }
        do {
            try await service.run()
            logger.info("service stopped", metadata: ["service": "\(name)"])
            // A service ending on its own stops the worker too (the group shuts down gracefully).
            if !Task.isShuttingDownGracefully { watchdog.stopRequested(reason: "service \(name) ended") }
        } catch {
            logger.error("service failed; stopping the worker", metadata: ["service": "\(name)", "error": "\(error)"])
            watchdog.stopRequested(reason: "service \(name) failed")
            throw error
        }
    }
}
