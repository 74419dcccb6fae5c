import NIOCore
import NIOHTTP1
import ProxyRouting

extension Exchange {
    // MARK: request parts from downstream

    func requestBody(_ b: ByteBuffer) {
        if var kept = retained {
            retainedBytes += b.readableBytes
            if retainedBytes <= Self.retainLimit { kept.append(b); retained = kept } else { retained = nil }
        }
        if let connection { connection.write(.body(.byteBuffer(b)), flush: false) } else { pending.append(.body(.byteBuffer(b))) }
    }

    func requestEnd(_ trailers: HTTPHeaders?) {
        requestComplete = true
        if upstreamHead != nil { mirrorIfConfigured() }
        if let connection { connection.write(.end(trailers), flush: true) } else { pending.append(.end(trailers)) }
    }

    func flushUpstream() { connection?.channel.flush() }

    func downstreamWritabilityChanged(_ writable: Bool) {
        guard let channel = connection?.channel else { return }
        channel.setOption(ChannelOptions.autoRead, value: writable).whenSuccess { if writable { channel.read() } }
    }

    func downstreamClosed() {
        guard !finished else { return }
        finished = true
        timeoutTask?.cancel()
        perTryTask?.cancel()
        if let c = connection, let pool {
            connection = nil
            pool.release(c, reusable: false)
        }
        done(status: 0)
    }

    // MARK: UpstreamDelegate

    func upstreamHead(_ h: HTTPResponseHead) {
        let status = Int(h.status.code)
        if status == 100 { return }
        if status == 101 && isUpgrade {
            // Switch once the decoder has delivered the end of the 101, so only raw bytes follow.
            upgradeResponse = h
            return
        }
        if let rt = runtime, let pool { rt.record(pool, status: status, now: .now()) }
        if let r = forward?.retry, r.retriable(status: status), attempts <= r.attempts, retained != nil, requestComplete {
            // Drop this answer and try again: the connection is not reused, as its response is unread.
            discarding = true
            if let c = connection, let pool { connection = nil; pool.release(c, reusable: false) }
            retryOr(h.status, .upstreamRetryLimit, allowed: true)
            return
        }
        responseStarted = true
        perTryTask?.cancel()
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
        downstream.writeHead(out)
    }

    func upstreamBody(_ b: ByteBuffer) {
        guard responseStarted else { return }
        downstream.writeBody(b)
    }

    func upstreamReadComplete() {
        if responseStarted { downstream.flush() }
    }

    func upstreamEnd(_ trailers: HTTPHeaders?) {
        if let h = upgradeResponse, !finished { return switchToTunnel(h) }
        guard responseStarted, !finished else { return }
        var trailers = trailers
        if trailers == nil, !deferredTrailers.isEmpty { trailers = deferredTrailers }
        finished = true
        timeoutTask?.cancel()
        perTryTask?.cancel()
        if let c = connection, let pool {
            connection = nil
            pool.release(c, reusable: requestComplete && upstreamKeepAlive)
        }
        downstream.writeEnd(trailers, from: self)
        done(status: 1)
    }

    func upstreamClosed(_ error: (any Error)?) {
        guard !finished, connection != nil else { return }
        let reused = connection?.reused ?? false
        connection = nil
        pool?.requestEnded()
        if responseStarted {
            finished = true
            timeoutTask?.cancel()
        perTryTask?.cancel()
            downstream.abort()
            done(status: 0)
            return
        }
        if !reused, let rt = runtime, let pool { rt.record(pool, status: 0, now: .now()) }
        // A reused keep-alive connection the peer had closed: safe to send again on a fresh one.
        retryOr(.serviceUnavailable, .upstreamReset, allowed: reused || (forward?.retry?.onReset ?? false))
    }

    func upstreamWritabilityChanged(_ writable: Bool) {
        downstream.setReading(writable)
    }

    // MARK: endings

    func timedOut() {
        guard !finished, !responseStarted else { return }
        runtime?.counters.value.timeouts += 1
        if let c = connection, let pool { connection = nil; pool.release(c, reusable: false) }
        fail(.gatewayTimeout, .upstreamTimeout)
    }

    func fail(_ status: HTTPResponseStatus, _ flag: ResponseFlag) {
        guard !finished else { return }
        let text = flag == .upstreamRetryLimit ? "upstream answered \(status.code) after \(attempts) attempts" : flag.explanation
        reply(status, flag, text + "\n")
    }

    func reply(_ status: HTTPResponseStatus, _ flag: ResponseFlag?, _ body: String, extra: HTTPHeaders = [:]) {
        guard !finished else { return }
        finished = true
        timeoutTask?.cancel()
        perTryTask?.cancel()
        downstream.localReply(status, flag: flag, body: body, extra: extra, from: self)
        done(status: Int(status.code))
    }

    func done(status: Int) {
        guard let rt = runtime else { return }
        worker.activeRequests -= 1
        rt.shared.requests.wrappingSubtract(1, ordering: .relaxed)
        if retrying { rt.shared.retries.wrappingSubtract(1, ordering: .relaxed) }
        let micros = Int((NIODeadline.now() - started).nanoseconds / 1000)
        WorkerStats.record(rt.counters, micros: micros, status: status)
        runtime = nil
    }
}
