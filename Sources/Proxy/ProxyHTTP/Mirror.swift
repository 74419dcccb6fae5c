import NIOCore
import NIOHTTP1
import ProxyConfig
import ProxyUpstream
import ProxyRouting

/// Fire-and-forget copies of a request (Envoy's request mirror policy): the copy goes to the mirror cluster
/// with `-shadow` appended to the host; its answer is read and dropped and never reaches the caller.
final class MirrorExchange: UpstreamDelegate {
    let pool: UpstreamPool
    var connection: UpstreamConnection?

    init(pool: UpstreamPool) { self.pool = pool }

    /// Sends `head` and `body` to an endpoint of `runtime`; does nothing when none is in rotation.
    static func send(head: HTTPRequestHead, body: [ByteBuffer], to runtime: ClusterRuntime, worker: Worker) {
        guard let picked = runtime.pick(hash: nil, random: { worker.random(below: $0) }) else { return }
        let m = MirrorExchange(pool: picked.pool)
        runtime.count(.mirrored)
        var shadow = head
        if let host = shadow.headers.first(name: "host") {
            let (name, port) = Self.split(host)
            shadow.headers.replaceOrAdd(name: "host", value: name + "-shadow" + port)
        }
        shadow.headers.remove(name: "transfer-encoding")
        shadow.headers.replaceOrAdd(name: "content-length", value: String(body.reduce(0) { $0 + $1.readableBytes }))
        m.pool.acquire { result in
            guard case let .success(conn) = result else { return }
            m.connection = conn
            conn.delegate = m
            conn.write(.head(shadow), flush: false)
            for b in body { conn.write(.body(.byteBuffer(b)), flush: false) }
            conn.write(.end(nil), flush: true)
        }
    }

    static func split(_ host: String) -> (String, String) {
        if let colon = host.lastIndex(of: ":"), !host.hasSuffix("]"), host[host.index(after: colon)...].allSatisfy(\.isNumber) {
            return (String(host[..<colon]), String(host[colon...]))
        }
        return (host, "")
    }

    func upstreamHead(_ head: HTTPResponseHead) {}
    func upstreamBody(_ body: ByteBuffer) {}
    func upstreamReadComplete() {}
    func upstreamWritabilityChanged(_ writable: Bool) {}

    func upstreamEnd(_ trailers: HTTPHeaders?) {
        if let c = connection {
            connection = nil
            pool.release(c, reusable: true)
        }
    }

    func upstreamClosed(_ error: (any Error)?) {
        if connection != nil {
            connection = nil
            pool.requestEnded()
        }
    }
}

extension Exchange {
    /// Sends the mirror copies once the whole request is known (bodies over the retain limit are not mirrored).
    func mirrorIfConfigured() {
        guard let f = forward, !f.mirrors.isEmpty, let head = upstreamHead, let body = retained else { return }
        for m in f.mirrors where m.fractionPerMillion >= 1_000_000 || worker.random(below: 1_000_000) < m.fractionPerMillion {
            guard let rt = worker.upstreams.cluster(m.cluster) else { continue }
            MirrorExchange.send(head: head, body: body, to: rt, worker: worker)
        }
    }
}
