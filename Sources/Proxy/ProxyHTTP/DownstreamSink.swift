import NIOCore
import NIOHTTP1
import ProxyConfig
import ProxyRouting

/// Where an Exchange writes its answer: an HTTP/1.x connection (DownstreamHandler) or one HTTP/2 stream
/// (H2StreamSink). Same loop as the Exchange, always.
protocol DownstreamSink: AnyObject {
    var worker: Worker { get }
    var routeTable: String { get }
    var sourceAddress: String { get }
    /// The HTTP/1 connection's context, for protocol upgrades (nil on HTTP/2 streams, which cannot upgrade).
    var upgradeContext: ChannelHandlerContext? { get }
    func writeHead(_ head: HTTPResponseHead)
    func writeInformational(_ head: HTTPResponseHead)
    func writeBody(_ b: ByteBuffer)
    func flush()
    func writeEnd(_ trailers: HTTPHeaders?, from x: Exchange)
    func setReading(_ on: Bool)
    func abort()
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
            worker.stats.localReplies[flag.rawValue, default: 0] += 1
        }
        writeHead(HTTPResponseHead(version: x.head.version, status: status, headers: headers))
        if x.head.method != .HEAD && !body.isEmpty { writeBody(ByteBuffer(string: body)) }
        writeEnd(nil, from: x)
    }
}
