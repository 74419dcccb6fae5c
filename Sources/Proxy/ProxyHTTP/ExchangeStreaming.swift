import NIOCore
import NIOHTTP1
import ProxyConfig
import ProxyUpstream
import ProxyRouting

extension Exchange {
    // MARK: request parts from downstream

    func requestBody(_ b: ByteBuffer) {
        lastActivity = .now()
        telemetry.requestBytes += b.readableBytes
        if var kept = retained {
            retainedBytes += b.readableBytes
            if retainedBytes <= Self.retainLimit {
                kept.append(b)
                retained = kept
            } else {
                retained = nil
                state.canResend = false
            }
        }
        if let connection { connection.write(.body(.byteBuffer(b)), flush: false) } else { pending.append(.body(.byteBuffer(b))) }
    }

    func requestEnd(_ trailers: HTTPHeaders?) {
        lastActivity = .now()
        state.requestEnded()
        if upstreamHead != nil { mirrorIfConfigured() }
        if let connection { connection.write(.end(trailers), flush: true) } else { pending.append(.end(trailers)) }
    }

    func flushUpstream() { connection?.channel.flush() }

    func downstreamWritabilityChanged(_ writable: Bool) {
        guard let channel = connection?.channel else { return }
        channel.setOption(ChannelOptions.autoRead, value: writable).whenSuccess { if writable { channel.read() } }
    }

    func downstreamClosed() {
        guard state.downstreamClosed() else { return }
        timeoutTask?.cancel()
        perTryTask?.cancel()
        dropConnection()
        telemetry.flags = "DC"
        done(status: 0)
    }

    // MARK: UpstreamDelegate

    func upstreamHead(_ h: HTTPResponseHead) {
        lastActivity = .now()
        let status = Int(h.status.code)
        if status != 100 && !(status == 101 && isUpgrade), let rt = runtime, let pool { rt.record(pool, status: status) }
        switch state.responseHead(status: status, retryBudgetAllows: retryBudgetAllows) {
        case .ignore:
            return
        case .holdUpgrade:
            // Switch once the decoder has delivered the end of the 101, so only raw bytes follow.
            upgradeResponse = h
        case let .retry(decision):
            // Drop this answer and try again: the connection is not reused, as its response is unread.
            dropConnection()
            follow(decision, h.status, .upstreamRetryLimit)
        case .forward:
            perTryTask?.cancel()
            noteResponse(h)
            downstream.writeHead(responseHead(h))
        }
    }

    /// The upstream's response head as the caller gets it: hop-by-hop headers out, the route's edits in, and a
    /// gRPC trailers-only status moved to the trailers.
    func responseHead(_ h: HTTPResponseHead) -> HTTPResponseHead {
        var out = HTTPResponseHead(version: head.version, status: h.status, headers: h.headers)
        HeaderRules.stripHopByHop(&out.headers)
        if let c = generatedCookie { out.headers.add(name: "set-cookie", value: c) }
        route?.responseHeaders.apply(to: &out.headers)
        virtualHost?.responseHeaders.apply(to: &out.headers)
        picked?.responseHeaders.apply(to: &out.headers)
        upstreamKeepAlive = h.isKeepAlive
        if out.headers.contains(name: "grpc-status") {
            // A gRPC trailers-only answer: the status must travel as trailers, or the caller loses it when the
            // response is re-framed as headers plus an empty end.
            for name in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
                for v in out.headers[name] { deferredTrailers.add(name: name, value: v) }
                out.headers.remove(name: name)
            }
        }
        return out
    }

    func upstreamBody(_ b: ByteBuffer) {
        lastActivity = .now()
        guard state.responseStarted else { return }
        telemetry.responseBytes += b.readableBytes
        telemetry.responseBody += b.readableBytes
        downstream.writeBody(b)
    }

    func upstreamReadComplete() {
        if state.responseStarted { downstream.flush() }
    }

    func upstreamEnd(_ trailers: HTTPHeaders?) {
        lastActivity = .now()
        switch state.responseEnded() {
        case .ignore:
            return
        case .tunnel:
            if let h = upgradeResponse { switchToTunnel(h) }
        case let .finish(reusable):
            timeoutTask?.cancel()
            perTryTask?.cancel()
            if let c = connection, let pool {
                connection = nil
                pool.release(c, reusable: reusable && upstreamKeepAlive)
            }
            if let g = trailers?.first(name: "grpc-status") { telemetry.grpcStatus = g }
            downstream.writeEnd(trailers ?? (deferredTrailers.isEmpty ? nil : deferredTrailers), from: self)
            done(status: 1)
        }
    }

    func upstreamClosed(_ error: (any Error)?) {
        guard let c = connection else { return }
        connection = nil
        pool?.requestEnded()
        switch state.upstreamLost(reused: c.reused, retryBudgetAllows: retryBudgetAllows) {
        case .ignore:
            return
        case .abortDownstream:
            timeoutTask?.cancel()
            perTryTask?.cancel()
            telemetry.flags = "UC"
            downstream.abort()
            done(status: 0)
        case let .retry(decision):
            if !c.reused, let rt = runtime, let pool { rt.record(pool, status: 0) }
            follow(decision, .serviceUnavailable, .upstreamReset)
        }
    }

    func upstreamWritabilityChanged(_ writable: Bool) {
        downstream.setReading(writable)
    }

    // MARK: endings

    func timedOut() {
        guard state.routeTimedOut() else { return }
        runtime?.count(.timeout)
        dropConnection()
        fail(.gatewayTimeout, .upstreamTimeout)
    }

    /// No bytes either way for the listener's stream idle timeout: 408 when nothing was answered yet (Envoy's
    /// "stream timeout"), else the downstream is reset; the upstream connection is dropped either way.
    func streamIdleTimedOut() {
        guard !finished else { return }
        timeoutTask?.cancel()
        perTryTask?.cancel()
        dropConnection()
        if state.responseStarted {
            telemetry.flags = "SI"
            downstream.abort()
            _ = state.downstreamClosed()
            done(status: 0)
        } else {
            // As Envoy: 504 once the whole request was received (the upstream is the one silent), else 408.
            downstream.closeAfterResponse()
            reply(requestComplete ? .gatewayTimeout : .requestTimeout, .streamIdleTimeout, "stream timeout\n")
        }
    }

    func fail(_ status: HTTPResponseStatus, _ flag: ResponseFlag) {
        guard !finished else { return }
        let text = flag == .upstreamRetryLimit ? "upstream answered \(status.code) after \(state.attempts) attempts" : flag.explanation
        reply(status, flag, text + "\n")
    }

    func reply(_ status: HTTPResponseStatus, _ flag: ResponseFlag?, _ body: String, extra: HTTPHeaders = [:]) {
        guard state.answeredLocally() else { return }
        timeoutTask?.cancel()
        perTryTask?.cancel()
        telemetry.responseCode = Int(status.code)
        if let flag { telemetry.flags = flag.rawValue }
        if head.method != .HEAD {
            telemetry.responseBytes += body.utf8.count
            telemetry.responseBody += body.utf8.count
        }
        downstream.localReply(status, flag: flag, body: body, extra: extra, from: self)
        done(status: Int(status.code))
    }

    func done(status: Int) {
        recordTelemetry()
        guard let rt = runtime else { return }
        worker.activeRequests -= 1
        let micros = Int((NIODeadline.now() - started).nanoseconds / 1000)
        rt.requestEnded(status: status, micros: micros, retried: state.countsAsRetry)
        runtime = nil
    }
}
