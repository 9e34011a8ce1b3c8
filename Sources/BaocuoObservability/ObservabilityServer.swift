import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// The worker's small HTTP endpoint: `/metrics` (Prometheus text), `/health/live`, `/health/ready`.
public struct ObservabilityServer: Service, CustomStringConvertible {
    /// The address to listen on.
    public let host: String
    /// The port to listen on; 0 picks a free one (reported to `onBound`).
    public let port: Int
    private let registry: PrometheusCollectorRegistry
    private let health: HealthState
    private let logger: Logger
    private let onBound: @Sendable (Int) -> Void
    /// `ObservabilityServer(host:port)`.
    public var description: String { "ObservabilityServer(\(host):\(port))" }

    /// Serves `registry` on `/metrics` and `health` on `/health/*`; `onBound` gets the bound port.
    public init(
        host: String, port: Int, registry: PrometheusCollectorRegistry, health: HealthState, logger: Logger,
        onBound: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.registry = registry
        self.health = health
        self.logger = logger
        self.onBound = onBound
    }

    /// Binds, then serves until graceful shutdown (``bind()`` first to fail early on a busy port).
    public func run() async throws {
        try await bind().run()
    }

    /// Binds the port and returns the listening endpoint, which serves until graceful shutdown
    /// once run. `baocuo run` binds before any other service starts: a port already in use is
    /// then a start-up error with its reason, not a service failing beside a running router.
    public func bind() async throws -> Listening {
        let registry = registry
        let health = health
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.pipeline.configureHTTPServerPipeline().flatMap {
                        channel.pipeline.addHandler(ObservabilityHandler(registry: registry, health: health))
                    }
                }
                .bind(host: host, port: port)
                .get()
        } catch {
            throw BindError(address: "\(host):\(port)", underlying: error)
        }
        let boundPort = channel.localAddress?.port ?? port
        logger.info("observability endpoint listening", metadata: ["address": "\(host):\(boundPort)"])
        onBound(boundPort)
        return Listening(channel: channel, port: boundPort)
    }

    /// The bound endpoint: a `Service` that serves until graceful shutdown, then closes the port.
    public struct Listening: Service, CustomStringConvertible {
        let channel: any Channel
        /// The port actually bound.
        public let port: Int
        /// `ObservabilityServer(port N)`.
        public var description: String { "ObservabilityServer(port \(port))" }

        /// Serves until graceful shutdown, then closes the port.
        public func run() async throws {
            let channel = channel
            await withGracefulShutdownHandler {
                try? await channel.closeFuture.get()
            } onGracefulShutdown: {
                channel.close(promise: nil)
            }
        }
    }

    /// The endpoint could not listen (a port in use, an unknown host).
    public struct BindError: Error, CustomStringConvertible {
        /// `host:port` that could not be bound.
        public var address: String
        /// The system's reason (e.g. address in use).
        public var underlying: any Error
        /// What could not be bound, and why.
        public var description: String {
            "the observability endpoint cannot listen on \(address): \(underlying)"
        }
    }
}

private final class ObservabilityHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: PrometheusCollectorRegistry
    private let health: HealthState
    private var path = "/"
    private var method = HTTPMethod.GET
    private var keepAlive = false

    init(registry: PrometheusCollectorRegistry, health: HealthState) {
        self.registry = registry
        self.health = health
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            path = String(head.uri.prefix { $0 != "?" })
            method = head.method
            keepAlive = head.isKeepAlive
        case .body:
            break
        case .end:
            let (status, contentType, body) = respond()
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(body.count))
            headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            let keepAlive = keepAlive
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { channel.close(promise: nil) }
            }
        }
    }

    private func respond() -> (HTTPResponseStatus, String, [UInt8]) {
        guard method == .GET || method == .HEAD else {
            return (.methodNotAllowed, "text/plain; charset=utf-8", Array("only GET\n".utf8))
        }
        switch path {
        case "/metrics":
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", buffer)
        case "/health/live":
            return Self.healthResponse(health.liveness())
        case "/health/ready":
            return Self.healthResponse(health.readiness())
        default:
            return (.notFound, "text/plain; charset=utf-8", Array("not found; try /metrics, /health/live, /health/ready\n".utf8))
        }
    }

    private static func healthResponse(_ result: (Bool, String)) -> (HTTPResponseStatus, String, [UInt8]) {
        let body = #"{"status":"\#(result.0 ? "ok" : "fail")","reason":"\#(String(result.1.map { $0 == "\"" ? "'" : $0 }))"}"# + "\n"
        return (result.0 ? .ok : .serviceUnavailable, "application/json", Array(body.utf8))
    }
}
