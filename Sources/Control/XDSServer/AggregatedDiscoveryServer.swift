import Foundation
import EnvoyAPI
import GRPCCore
import Logging
import WeftModel
import XDSTranslation
import WeftCore

/// The ADS gRPC service: one ADSStreamState per stream, fed by the proxy's requests and by new snapshots.
public struct AggregatedDiscoveryServer: Envoy_Service_Discovery_V3_AggregatedDiscoveryService.ServiceProtocol {
    let hub: SnapshotHub
    let book: ProxyStatusBook
    let logger: Logger
    let cache: XDSCache
    let secretSource: (any SecretSource)?
    let authenticator: (any XDSAuthenticator)?

    /// `cache` holds the translations every stream reads; its generator is what turns a MeshState into xDS.
    /// `secrets` issues each proxy's certificate (SDS); without it no secrets are served. `authenticator`
    /// decides who may open a stream as which node identity; without it, anyone may (`--insecure`).
    public init(hub: SnapshotHub, book: ProxyStatusBook, logger: Logger, cache: XDSCache = XDSCache(),
                secrets: (any SecretSource)? = nil, authenticator: (any XDSAuthenticator)? = nil) {
        self.hub = hub
        self.book = book
        self.logger = logger
        self.cache = cache
        self.secretSource = secrets
        self.authenticator = authenticator
    }

    public func streamAggregatedResources(
        request: StreamingServerRequest<Envoy_Service_Discovery_V3_DiscoveryRequest>, context: ServerContext
    ) async throws -> StreamingServerResponse<Envoy_Service_Discovery_V3_DiscoveryResponse> {
        let caller: XDSCaller
        do { caller = try authenticator?.caller(metadata: request.metadata, context: context) ?? .anyone } catch {
            logger.warning("xDS stream refused", metadata: ["peer": "\(context.remotePeer)", "error": "\(error)"])
            throw error
        }
        return StreamingServerResponse { writer in
            try await self.serve(request.messages, writer, caller: caller)
            return [:]
        }
    }

    public func deltaAggregatedResources(
        request: StreamingServerRequest<Envoy_Service_Discovery_V3_DeltaDiscoveryRequest>, context: ServerContext
    ) async throws -> StreamingServerResponse<Envoy_Service_Discovery_V3_DeltaDiscoveryResponse> {
        throw RPCError(code: .unimplemented, message: "weft serves state-of-the-world ADS; delta xDS comes with the scale work")
    }

    enum Input: Sendable {
        case request(Envoy_Service_Discovery_V3_DiscoveryRequest)
        case mesh(MeshState)
        case secrets(WorkloadSecrets)
        case closed
    }

    /// One stream: its node identity must be one `caller` holds (checked on the first request, before anything
    /// is sent), else the stream ends with `permissionDenied`.
    func serve(_ request: RPCAsyncSequence<Envoy_Service_Discovery_V3_DiscoveryRequest, any Error>,
               _ response: RPCWriter<Envoy_Service_Discovery_V3_DiscoveryResponse>, caller: XDSCaller) async throws {
        let (inputs, feed) = AsyncStream.makeStream(of: Input.self)
        var state = ADSStreamState(cache: cache)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do { for try await r in request { feed.yield(.request(r)) } } catch {}
                feed.yield(.closed)
            }
            group.addTask {
                for await m in hub.subscribe() { feed.yield(.mesh(m)) }
            }
            loop: for await input in inputs {
                let (responses, events): ([Envoy_Service_Discovery_V3_DiscoveryResponse], [ADSStreamState.Event])
                switch input {
                case let .request(r): (responses, events) = state.onRequest(r)
                case let .mesh(m): (responses, events) = state.onMesh(m)
                case let .secrets(s): (responses, events) = state.onSecrets(s)
                case .closed: break loop
                }
                if case let .connected(node)? = events.first {
                    guard caller.permits(node.identity) else {
                        let refusal = caller.refusal(claimed: node.identity, what: "node \(node.id)")
                        logger.warning("xDS stream refused", metadata: ["node": "\(node.id)", "error": "\(refusal.message)"])
                        throw refusal
                    }
                    logger.info("proxy authenticated", metadata: ["node": "\(node.id)", "caller": "\(caller)"])
                }
                record(events, node: state.node)
                if let source = secretSource, case let .connected(node)? = events.first, node.takesKeyBySDS {
                    // The first certificate now, so it is there before the proxy asks; then one at each renewal time.
                    if let first = issue(source, node) {
                        let (r, e) = state.onSecrets(first)
                        record(e, node: node)
                        for x in r { try await response.write(x) }
                        group.addTask { await renew(source, node, after: first, feed: feed) }
                    }
                }
                for r in responses { try await response.write(r) }
            }
            group.cancelAll()
        }
        if let node = state.node {
            book.update(node.id) { $0.connected = false }
            logger.info("proxy disconnected", metadata: ["node": "\(node.id)"])
        }
    }

    func issue(_ source: any SecretSource, _ node: ProxyNode) -> WorkloadSecrets? {
        do {
            let start = ContinuousClock.now
            guard let s = try source.secrets(for: node) else { return nil }
            let took = ContinuousClock.now - start
            book.update(node.id) { $0.certificate = CertificateStatus(identity: s.identity, serial: s.serial, expiresAt: s.expiresAt) }
            logger.info("issued certificate", metadata: ["node": "\(node.id)", "identity": "\(s.identity)", "serial": "\(s.serial)",
                                                         "took_ms": "\(String(format: "%.2f", took.milliseconds))"])
            return s
        } catch {
            logger.error("cannot issue a certificate", metadata: ["node": "\(node.id)", "error": "\(error)"])
            return nil
        }
    }

    /// Issues a new certificate at each renewal time (half the lifetime) while the stream lives; a failed issue
    /// is retried after a few seconds, the old certificate staying in use meanwhile.
    func renew(_ source: any SecretSource, _ node: ProxyNode, after first: WorkloadSecrets,
               feed: AsyncStream<Input>.Continuation) async {
        var next = first.renewAt
        while !Task.isCancelled {
            let wait = max(0.05, next - Date().timeIntervalSince1970)
            do { try await Task.sleep(for: .milliseconds(Int64(wait * 1000))) } catch { return }
            if let s = issue(source, node) {
                feed.yield(.secrets(s))
                next = s.renewAt
            } else {
                next = Date().timeIntervalSince1970 + 5
            }
        }
    }

    func record(_ events: [ADSStreamState.Event], node: ProxyNode?) {
        guard let id = node?.id else { return }
        for e in events {
            switch e {
            case let .connected(n):
                book.connected(n)
                logger.info("proxy connected", metadata: ["node": "\(n.id)", "namespace": "\(n.namespace)"])
            case let .sent(type, version):
                book.update(id) { $0.sent[type] = version }
            case let .acked(type, version):
                book.update(id) { s in
                    s.acked[type] = version
                    if s.nack?.hasPrefix(type) == true { s.nack = nil }
                }
            case let .synced(version):
                book.update(id) { $0.syncedVersion = version }
            case let .nacked(type, version, message):
                book.update(id) { $0.nack = "\(type) version \(version): \(message)" }
                logger.error("proxy refused config", metadata: ["node": "\(id)", "type": "\(type)", "error": "\(message)"])
            }
        }
    }
}
