import NIOCore
import NIOHTTP1
import ProxyConfig
import ProxyRouting

/// The connection a request came in on, as its Exchange sees it: the worker (event loop) it lives on, the
/// listener's route table, the peer's address and, for authorization, the connection's facts (the mTLS peer's
/// identities, SNI). One per downstream connection, shared by its requests.
struct DownstreamOrigin {
    let worker: Worker
    let routeTable: String
    let sourceAddress: String
    /// The listener's limits and request handling.
    let settings: HTTPConnectionSettings
    /// The listener's counters over all its connections (premature resets).
    let listenerGuard: ListenerGuard
    /// x-forwarded-client-cert for requests of an mTLS connection (the caller's SPIFFE ID); nil: the header is
    /// removed, as Envoy's SANITIZE does.
    var clientCertHeader: String? = nil
    /// What authorization reads of the connection (addresses, SNI, the mTLS peer's identities).
    var connection: ConnectionFacts = .unknown
    /// How the listener labels Istio's standard metrics; nil: not recorded.
    var telemetry: ListenerTelemetry? = nil
    /// The connection's addresses as `ip:port` (`[ip]:port` for IPv6), read when the listener writes access logs.
    var remoteText: String? = nil
    var localText: String? = nil
}

/// A downstream connection's handler (HTTP/1 or HTTP/2), counted on its worker while it is in the pipeline.
protocol DownstreamConnectionHandler: AnyObject {
    var origin: DownstreamOrigin { get }
    var context: ChannelHandlerContext? { get set }
}

extension DownstreamConnectionHandler {
    func connectionAdded(_ context: ChannelHandlerContext) {
        self.context = context
        origin.worker.connectionOpened()
    }

    func connectionRemoved() {
        origin.worker.connectionClosed()
        context = nil
    }
}

/// Where an Exchange writes its answer: an HTTP/1.x connection (DownstreamHandler) or one HTTP/2 stream
/// (H2StreamSink). Same loop as the Exchange, always.
protocol DownstreamSink: AnyObject {
    var origin: DownstreamOrigin { get }
    /// The HTTP/1 connection's context, for protocol upgrades (nil on HTTP/2 streams, which cannot upgrade).
    var upgradeContext: ChannelHandlerContext? { get }
    func writeHead(_ head: HTTPResponseHead)
    func writeInformational(_ head: HTTPResponseHead)
    func writeBody(_ b: ByteBuffer)
    func flush()
    func writeEnd(_ trailers: HTTPHeaders?, from x: Exchange)
    func setReading(_ on: Bool)
    func abort()
    /// The connection closes once the current response is written (a request refused for its framing).
    func closeAfterResponse()
    func localReply(_ status: HTTPResponseStatus, flag: ResponseFlag?, body: String, extra: HTTPHeaders, from x: Exchange)
}

extension DownstreamSink {
    /// A complete local answer (404, 503, redirects, faults) with the response flag header.
    func writeLocalReply(_ status: HTTPResponseStatus, flag: ResponseFlag?, body: String, extra: HTTPHeaders, from x: Exchange) {
        var headers = extra
        if !headers.contains(name: "content-type") { headers.add(name: "content-type", value: "text/plain") }
        headers.add(name: "content-length", value: String(body.utf8.count))
        if let flag {
            headers.add(name: "x-weft-response-flags", value: flag.rawValue)
            origin.worker.stats.localReplies[flag.rawValue, default: 0] += 1
        }
        writeHead(HTTPResponseHead(version: x.head.version, status: status, headers: headers))
        if x.head.method != .HEAD && !body.isEmpty { writeBody(ByteBuffer(string: body)) }
        writeEnd(nil, from: x)
    }
}
