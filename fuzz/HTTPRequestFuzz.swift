// libFuzzer target: any bytes as what a client sends to a weft proxy HTTP listener, through the proxy's own
// pipeline on NIO's embedded channels: protocol detection, the HTTP/1 decoder or HTTP/2 codec, the header and
// host checks, path normalisation, filters (a fault and a rate limit), the router and an upstream that answers.
// The first byte picks HTTP/1 or HTTP/2 (the client preface is then sent first) and how the rest is cut into
// reads. Any answer, refusal or close is a normal outcome; nothing may crash or trap.
import NIOCore
import NIOEmbedded
import ProxyConfig
import ProxyHTTP
import ProxyRouting
import ProxyUpstream

/// Upstream connections as embedded channels that answer every request with a small 200.
final class AnsweringUpstreams: UpstreamConnector, @unchecked Sendable {
    let loop: EmbeddedEventLoop
    var channels: [EmbeddedChannel] = []
    init(loop: EmbeddedEventLoop) { self.loop = loop }

    func connect(host: String, port: Int, timeout: TimeAmount, on _: any EventLoop,
                 initializer: @escaping @Sendable (any Channel) throws -> Void) -> EventLoopFuture<any Channel> {
        let ch = EmbeddedChannel(loop: loop)
        do {
            try initializer(ch)
            try ch.connect(to: SocketAddress(ipAddress: host, port: port)).wait()
        } catch { return loop.makeFailedFuture(error) }
        channels.append(ch)
        return loop.makeSucceededFuture(ch)
    }

    func answerAll() {
        for ch in channels where ch.isActive {
            while (try? ch.readOutbound(as: IOData.self)) != nil {}
            _ = try? ch.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"))
        }
    }
}

let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let control = data[0]
    var input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if control & 1 == 1 { input = preface + input }
    let chunk = max(1, Int(control >> 1) * 4)

    let loop = EmbeddedEventLoop()
    let upstreams = AnsweringUpstreams(loop: loop)
    let worker = Worker(loop: loop, connector: upstreams)
    let fault = FaultPolicy(delay: .milliseconds(5), delayPerMillion: 100_000, abortStatus: 503, abortPerMillion: 100_000)
    let routes = [
        Route(match: RouteMatch(path: .prefix("/direct")), action: .direct(status: 204, body: "")),
        Route(match: RouteMatch(path: .prefix("/")), action: .forward(ForwardAction(clusters: [WeightedCluster(name: "c")])),
              filterSettings: [FaultPolicy.filterName: fault]),
    ]
    let table = HTTPFilterRegistry.compile(RouteTable(name: "r", virtualHosts: [VirtualHost(name: "vh", domains: ["*"], routes: routes)]))
    worker.apply(ProxySnapshot(routeTables: ["r": table], clusters: ["c": ClusterConfig(name: "c", endpoints: [EndpointConfig(host: "10.0.0.1", port: 80)])]))
    var settings = HTTPConnectionSettings()
    settings.maxHeadersCount = 100
    settings.normalizePath = true
    settings.mergeSlashes = control & 2 == 2
    settings.requestHeadersTimeout = .seconds(10)
    settings.prematureResetsPerSecond = 5
    var listener = ListenerConfig(name: "l", host: "127.0.0.1", port: 15001, kind: .http(routeTable: "r", statPrefix: "l"), http: settings)
    listener.maxConnections = 10
    let caller = EmbeddedChannel(loop: loop)
    do {
        try ListenerPipelines.configure(caller, listener: listener, worker: worker, guard: ListenerGuard())
        try caller.connect(to: SocketAddress(ipAddress: "127.0.0.2", port: 40000)).wait()
    } catch { return 0 }
    var at = 0
    while at < input.count, caller.isActive {
        let end = min(input.count, at + chunk)
        _ = try? caller.writeInbound(ByteBuffer(bytes: input[at..<end]))
        at = end
        loop.run()
        upstreams.answerAll()
        while (try? caller.readOutbound(as: IOData.self)) != nil {}
    }
    loop.advanceTime(by: .seconds(400))  // every timeout fires
    upstreams.answerAll()
    _ = try? caller.finish()
    for ch in upstreams.channels { _ = try? ch.finish() }
    _ = try? loop.syncShutdownGracefully()
    return 0
}
