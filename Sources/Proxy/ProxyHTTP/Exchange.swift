import WeftCore
import Foundation
import NIOCore
import NIOHTTP1
import ProxyConfig
import ProxyUpstream
import ProxyRouting

/// One request on the proxy: runs its HTTP filters and the router, picks cluster and endpoint, streams the
/// request up and the response down. Its course (tries, retries, timeouts, when the answer is final) is decided
/// by `state`, a StreamState; this type does the I/O those decisions call for. Runs on the worker's loop only.
final class Exchange: UpstreamDelegate {
    let downstream: any DownstreamSink
    let head: HTTPRequestHead
    let worker: Worker
    var loop: any EventLoop { worker.loop }
    let snapshot: ProxySnapshot
    /// When a byte last moved either way (the listener's stream idle timeout reads it).
    var lastActivity = NIODeadline.now()

    var route: Route?
    var virtualHost: VirtualHost?
    var forward: ForwardAction?
    var picked: WeightedCluster?
    var cluster: ClusterConfig?
    var runtime: ClusterRuntime?
    var upstreamHead: HTTPRequestHead?

    /// Request parts not yet sent upstream (all of them before the connection is ready).
    var pending: [HTTPClientRequestPart] = []
    /// A copy of the whole request body while it is small enough to resend on retry.
    var retained: [ByteBuffer]? = []
    var retainedBytes = 0
    static let retainLimit = 64 * 1024
    /// The request's course: phase, tries, retry decisions (see StreamState).
    var state: StreamState

    var connection: UpstreamConnection?
    var pool: UpstreamPool?
    var endpoint: EndpointConfig?
    var tried: Set<EndpointConfig> = []
    var timeoutTask: Scheduled<Void>?
    var perTryTask: Scheduled<Void>?
    var started = NIODeadline.now()
    var upstreamKeepAlive = true
    /// A Set-Cookie value made for consistent hashing, sent with the response.
    var generatedCookie: String?
    var generatedCookieValue: String?
    /// The 101 of an upgrade, waiting for its end before the connections become a tunnel.
    var upgradeResponse: HTTPResponseHead?
    /// gRPC status fields of a trailers-only answer, sent as trailers.
    var deferredTrailers = HTTPHeaders()
    /// A WebSocket (or other) upgrade: after the 101 both sides exchange raw bytes.
    let isUpgrade: Bool
    /// What the HTTP filters see and hand on (metadata, header edits for the upstream request), kept across a
    /// filter's delay.
    var filterRequest: FilterRequest
    /// What the standard metrics record when the request ends.
    var telemetry = StreamTelemetry()
    /// The trace this request belongs to (hex), when the listener traces.
    var traceID: String?
    /// This hop's span, on a traced listener.
    var span: ActiveSpan?

    init(downstream: any DownstreamSink, head: HTTPRequestHead) {
        self.downstream = downstream
        self.head = head
        self.worker = downstream.origin.worker
        self.snapshot = worker.snapshot
        self.isUpgrade = head.headers.contains(name: "upgrade")
            && head.headers["connection"].contains { $0.lowercased().contains("upgrade") }
        state = StreamState(isUpgrade: isUpgrade)
        filterRequest = FilterRequest(method: head.method.rawValue, headers: head.headers, uri: head.uri, authority: "",
                                      connection: downstream.origin.connection, worker: downstream.origin.worker.filterState)
    }

    var finished: Bool { state.isDone }
    var requestComplete: Bool { state.requestComplete }

    // MARK: start

    func start() {
        let origin = downstream.origin
        if let tracing = origin.telemetry?.tracing { beginTrace(tracing) }
        let settings = origin.settings
        if head.headers.count > settings.maxHeadersCount {
            downstream.closeAfterResponse()
            return reply(HTTPResponseStatus(statusCode: 431), nil, "too many request headers (at most \(settings.maxHeadersCount))\n")
        }
        if HeaderRules.size(head) > settings.maxRequestHeadersBytes {
            downstream.closeAfterResponse()
            return reply(HTTPResponseStatus(statusCode: 431), nil, "request headers too large (at most \(settings.maxRequestHeadersBytes / 1024) KiB)\n")
        }
        if head.version.major == 1, let problem = HeaderRules.hostProblem(head) {
            downstream.closeAfterResponse()
            return reply(.badRequest, nil, problem + "\n")
        }
        var (authority, uri) = HeaderRules.target(head)
        if settings.normalizePath || settings.mergeSlashes {
            uri = settings.normalizePath ? PathNormalizer.normalize(uri, mergeSlashes: settings.mergeSlashes)
                                         : PathNormalizer.mergingSlashes(uri)
        }
        let view = RequestView(method: head.method.rawValue, uri: uri, authority: authority, headers: head.headers)
        filterRequest.uri = uri
        filterRequest.authority = authority
        guard let table = snapshot.routeTables[origin.routeTable] else {
            return reply(.notFound, .noRoute, "no route configuration '\(origin.routeTable)' yet\n")
        }
        // As Envoy's HCM: the route is found first, then the listener's filter chain runs (with the route's
        // settings where it has its own), then the router. A request no route matches still meets the
        // listener-wide filters (an inbound listener's rate limit) before its 404.
        if let (vh, route) = table.route(for: view) {
            self.route = route
            self.virtualHost = vh
        }
        runFilters(route?.filters ?? table.filters, from: 0, view: view)
    }

    /// Runs the chain from `start`, then the router, unless a filter answers the request or holds it (a delay:
    /// it goes on from the next filter later).
    func runFilters(_ filters: [any HTTPFilter], from start: Int, view: RequestView) {
        if start < filters.count {
            let now = ContinuousClock.now
            let worker = worker
            for i in start..<filters.count {
                switch filters[i].decodeHeaders(&filterRequest, now: now, random: { worker.random(below: $0) }) {
                case .proceed: continue
                case let .reply(r):
                    var extra = HTTPHeaders()
                    for f in r.headers { extra.add(name: f.name, value: f.value) }
                    return reply(HTTPResponseStatus(statusCode: r.status), r.flag, r.body, extra: extra)
                case let .delay(d):
                    loop.scheduleTask(in: TimeAmount(d)) { [self] in
                        if !finished { runFilters(filters, from: i + 1, view: view) }
                    }
                    return
                }
            }
        }
        guard let route else { return reply(.notFound, .noRoute, "no route for \(view.authority)\(view.path)\n") }
        router(view, route)
    }

    /// The router, after every filter: a direct answer, a redirect, or on to the upstream.
    func router(_ view: RequestView, _ route: Route) {
        switch route.action {
        case let .direct(status, body):
            reply(HTTPResponseStatus(statusCode: status), nil, body)
        case let .redirect(r):
            var h = HTTPHeaders()
            h.add(name: "location", value: r.location(for: view, matchedPrefix: route.match.matchedPrefix))
            reply(HTTPResponseStatus(statusCode: r.status), nil, "", extra: h)
        case let .forward(f):
            forward = f
            state.forwarded(retry: f.retry)
            proceed(view)
        }
    }

    func proceed(_ view: RequestView) {
        guard let f = forward, let wc = f.pick(random: worker.random(below: max(1, f.totalWeight))) else {
            return reply(.serviceUnavailable, .noCluster, "route has no cluster\n")
        }
        picked = wc
        guard let rt = worker.upstreams.cluster(wc.name) else {
            return reply(.serviceUnavailable, .noCluster, "no cluster '\(wc.name)'\n")
        }
        let c = rt.config
        cluster = c
        runtime = rt
        upstreamHead = buildUpstreamHead(view, f, wc)
        if head.headers.first(name: "expect")?.lowercased() == "100-continue" {
            downstream.writeInformational(HTTPResponseHead(version: head.version, status: .continue))
        }
        rt.requestStarted()
        worker.activeRequests += 1
        if requestComplete { mirrorIfConfigured() }
        if let t = f.timeout, t > .zero {
            timeoutTask = loop.scheduleTask(in: TimeAmount(t)) { [self] in timedOut() }
        }
        attempt()
    }

    func buildUpstreamHead(_ view: RequestView, _ f: ForwardAction, _ wc: WeightedCluster) -> HTTPRequestHead {
        var h = head.headers
        // The filters' edits first (the JWT filter's token removal and claim headers), as Envoy's filters change the
        // request headers before the router adds its own.
        if !filterRequest.headerEdits.isEmpty { filterRequest.headerEdits.apply(to: &h) }
        HeaderRules.stripHopByHop(&h, keepUpgrade: isUpgrade)
        if span != nil { injectTrace(&h) }
        h.remove(name: "expect")
        h.replaceOrAdd(name: "host", value: f.hostRewrite ?? view.authority)
        if !h.contains(name: "x-forwarded-proto") { h.add(name: "x-forwarded-proto", value: "http") }
        h.remove(name: "x-forwarded-client-cert")
        if let xfcc = downstream.origin.clientCertHeader { h.add(name: "x-forwarded-client-cert", value: xfcc) }
        route?.requestHeaders.apply(to: &h)
        virtualHost?.requestHeaders.apply(to: &h)
        wc.requestHeaders.apply(to: &h)
        let uri = f.rewrittenURI(view.uri, matchedPrefix: route?.match.matchedPrefix)
        var up = HTTPRequestHead(version: .http1_1, method: head.method, uri: uri, headers: h)
        if cluster?.http2 == true {
            // HTTP/2 frames the body itself; it has no Transfer-Encoding.
            up.headers.remove(name: "transfer-encoding")
        } else if head.version.major == 2, !h.contains(name: "content-length"), ![.GET, .HEAD, .OPTIONS, .DELETE].contains(head.method) {
            // An HTTP/2 caller's body has no length up front: stream it chunked to an HTTP/1.1 upstream.
            up.headers.add(name: "transfer-encoding", value: "chunked")
        }
        return up
    }

    // MARK: attempts

    func attempt() {
        guard let rt = runtime, state.startAttempt() else { return }
        guard let (ep, pool, choices) = rt.pick(hash: hashKey(), exclude: tried, random: { worker.random(below: $0) }) else {
            return fail(.serviceUnavailable, .noHealthyUpstream)
        }
        endpoint = ep
        if choices > 1 { tried.insert(ep) }
        self.pool = pool
        pool.acquire { [self] result in
            switch result {
            case let .success(conn): attach(conn)
            case .failure(.overflow):
                rt.count(.overflow)
                fail(.serviceUnavailable, .upstreamOverflow)
            case .failure(.connectFailed):
                rt.record(pool, status: 0)
                follow(state.connectFailed(retryBudgetAllows: retryBudgetAllows), .serviceUnavailable, .upstreamConnectFailure)
            }
        }
    }

    func attach(_ conn: UpstreamConnection) {
        guard case let .send(resend) = state.connected() else {
            pool?.release(conn, reusable: true)
            return
        }
        connection = conn
        conn.delegate = self
        conn.write(.head(upstreamHead!), flush: false)
        if resend, let retained {
            for b in retained { conn.write(.body(.byteBuffer(b)), flush: false) }
            if requestComplete { conn.write(.end(nil), flush: false) }
        } else {
            for p in pending { conn.write(p, flush: false) }
        }
        pending.removeAll()
        conn.channel.flush()
        if let t = forward?.retry?.perTryTimeout, t > .zero {
            let attempt = state.attempts
            perTryTask?.cancel()
            perTryTask = loop.scheduleTask(in: TimeAmount(t)) { [self] in perTryTimedOut(attempt: attempt) }
        }
    }

    /// This try took longer than the per-try timeout: drop its connection and try again (the route timeout
    /// still bounds the whole request), or answer 504 when no try is left.
    func perTryTimedOut(attempt: Int) {
        guard let decision = state.perTryTimedOut(attempt: attempt, retryBudgetAllows: retryBudgetAllows) else { return }
        dropConnection()
        runtime?.count(.timeout)
        follow(decision, .gatewayTimeout, .upstreamTimeout)
    }

    /// Whether the cluster's retry budget (or max retries), counted across workers, has room for one more.
    var retryBudgetAllows: Bool {
        runtime?.retryAllowed ?? false
    }

    /// Does what a retry decision says: schedule the next try after a jittered backoff, or answer the failure.
    func follow(_ decision: StreamState.RetryDecision, _ status: HTTPResponseStatus, _ flag: ResponseFlag) {
        switch decision {
        case .ignore: return
        case let .retry(backoff, firstRetry):
            guard let rt = runtime else { return }
            rt.retryStarted(first: firstRetry)
            let jittered = Int64(worker.random(below: Int(max(1, TimeAmount(backoff).nanoseconds))))
            loop.scheduleTask(in: .nanoseconds(jittered)) { [self] in attempt() }
        case let .fail(overBudget):
            // Over the retry budget (or max_retries): answer now rather than add load.
            if overBudget { runtime?.count(.retryOverflow) }
            fail(status, flag)
        }
    }

    /// Gives up the current try's connection without reusing it.
    func dropConnection() {
        if let c = connection, let pool {
            connection = nil
            pool.release(c, reusable: false)
        }
    }

    /// A cookie's value from the request, without quotes.
    static func cookie(_ name: String, in headers: HTTPHeaders) -> String? {
        for line in headers["cookie"] {
            for part in line.split(separator: ";") {
                let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == name { return kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            }
        }
        return nil
    }

    func hashKey() -> UInt64? {
        guard let policies = forward?.hashPolicies, !policies.isEmpty else { return nil }
        var h = FNV1a.offset
        func mix(_ s: String) { h = FNV1a.mix(h, s) }
        for p in policies {
            switch p {
            case let .header(n): mix(head.headers.first(name: n) ?? "")
            case let .cookie(n, ttl, path):
                if let value = Self.cookie(n, in: head.headers) ?? generatedCookieValue {
                    mix(value)
                } else if let ttl {
                    // No cookie yet: make one, hash on it, and hand it to the caller so its next requests stick.
                    let value = String(UInt64.random(in: 1...UInt64.max, using: &worker.rng), radix: 16)
                    mix(value)
                    generatedCookieValue = value
                    var c = "\(n)=\"\(value)\"; Max-Age=\(ttl.components.seconds)"
                    if let path { c += "; Path=\(path)" }
                    generatedCookie = c + "; HttpOnly"
                } else {
                    mix("")
                }
            case .sourceIP: mix(downstream.origin.sourceAddress)
            case let .queryParameter(n): mix(head.uri.split(separator: "?").dropFirst().first.map(String.init).flatMap { q in
                    q.split(separator: "&").first { $0.hasPrefix(n + "=") }.map(String.init) } ?? "")
            }
        }
        return h
    }
}
