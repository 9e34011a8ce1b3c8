import NIOCore
import NIOPosix

/// Forwards a fixed local port to one mock broker, so `dev-cluster --port P` gives a stable
/// bootstrap address. librdkafka 2.0.2's mock brokers always listen on free ports; a client
/// bootstraps through the forwarder and then talks to the brokers' advertised 127.0.0.1 ports
/// directly, which is enough on one machine.
struct BootstrapForwarder {
    let channel: any Channel

    static func start(port: Int, target: SocketAddress) async throws -> BootstrapForwarder {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                ClientBootstrap(group: inbound.eventLoop)
                    .connect(to: target)
                    .flatMap { outbound in
                        let (toBroker, toClient) = GlueHandler.pair()
                        return inbound.pipeline.addHandler(toBroker).flatMap {
                            outbound.pipeline.addHandler(toClient)
                        }
                    }
            }
            .bind(host: "127.0.0.1", port: port)
            .get()
        return BootstrapForwarder(channel: channel)
    }

    func close() async {
        try? await channel.close()
    }
}

/// Copies bytes between two channels; closing either side closes the other.
private final class GlueHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?

    static func pair() -> (GlueHandler, GlueHandler) {
        let first = GlueHandler()
        let second = GlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.forward(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.context?.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.context?.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func forward(_ data: NIOAny) {
        context?.write(data, promise: nil)
    }
}
