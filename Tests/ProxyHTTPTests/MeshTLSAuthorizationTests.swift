import Crypto
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import ProxyConfig
import ProxyRouting
import Testing
import X509
@testable import ProxyHTTP
@testable import ProxyUpstream

/// A test mesh CA: a root and SPIFFE workload certificates, made here.
enum TestPKI {
    static let rootKey = P256.Signing.PrivateKey()
    static let root: Certificate = {
        let key = Certificate.PrivateKey(rootKey)
        let name = try! DistinguishedName { CommonName("weft test root") }
        let extensions = try! Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
            Critical(KeyUsage(keyCertSign: true))
        }
        return try! Certificate(version: .v3, serialNumber: .init(), publicKey: key.publicKey, notValidBefore: Date() - 3600,
                                notValidAfter: Date() + 3600, issuer: name, subject: name, extensions: extensions, issuerPrivateKey: key)
    }()
    static var rootPEM: String { try! root.serializeAsPEM().pemString }

    /// A workload certificate for `spiffe://cluster.local/ns/shop/sa/<sa>` and its key, as PEM.
    static func workload(_ sa: String) -> (chain: String, key: String, id: String) {
        let key = P256.Signing.PrivateKey()
        let id = "spiffe://cluster.local/ns/shop/sa/\(sa)"
        let extensions = try! Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth, .clientAuth])
            Critical(SubjectAlternativeNames([.uniformResourceIdentifier(id)]))
        }
        let cert = try! Certificate(version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: Date() - 3600,
                                    notValidAfter: Date() + 3600, issuer: root.subject, subject: DistinguishedName(), extensions: extensions,
                                    issuerPrivateKey: .init(rootKey))
        return (try! cert.serializeAsPEM().pemString, key.pemRepresentation, id)
    }

    static func clientContext(_ sa: String) throws -> NIOSSLContext {
        let w = workload(sa)
        var c = TLSConfiguration.makeClientConfiguration()
        c.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(w.chain.utf8)).map { .certificate($0) }
        c.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(w.key.utf8), format: .pem))
        c.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(rootPEM.utf8)))
        c.certificateVerification = .noHostnameVerification
        c.applicationProtocols = ["http/1.1"]
        return try NIOSSLContext(configuration: c)
    }
}

/// Authorization over real mesh mTLS on loopback: the caller's SPIFFE ID from its certificate and the SNI of its
/// ClientHello reach the RBAC rules; a TCP listener's network RBAC decides after the handshake.
@Suite struct MeshTLSAuthorizationTests {
    /// Collects what a connection receives until it closes.
    final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var text = ""
        let done: EventLoopPromise<String>
        init(_ done: EventLoopPromise<String>) { self.done = done }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { text += String(buffer: unwrapInboundIn(data)) }
        func channelInactive(context: ChannelHandlerContext) { done.succeed(text) }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }

    static func rbac(_ principal: RBACPrincipal, _ permission: RBACPermission, prefix: String) -> RBACFilterConfig {
        let p = RBACPolicy(name: "front", permissions: [permission], principals: [principal], allowedStat: StatName(prefix + "policy.front.allowed"),
                           deniedStat: StatName(prefix + "policy.front.denied"))
        return RBACFilterConfig(rules: RBACRules(action: .allow, policies: [p], allowedStat: StatName(prefix + "allowed"),
                                                 deniedStat: StatName(prefix + "denied")), shadowRules: nil)
    }

    /// A proxy with one listener on loopback port 0, serving as `reviews` with the mesh root.
    static func serve(_ listener: ListenerConfig, routes: RouteTable? = nil) async throws -> (any Channel, Worker, MultiThreadedEventLoopGroup) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let worker = Worker(loop: group.next())
        let me = TestPKI.workload("reviews")
        worker.upstreams.credentials.update(try MeshTLSContexts(identity: me.id, serial: "1", chainPEM: me.chain, keyPEM: me.key,
                                                                rootPEM: TestPKI.rootPEM))
        if let routes { try await worker.loop.submit { worker.apply(ProxySnapshot(routeTables: ["r": routes])) }.get() }
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture { try ListenerPipelines.configure(ch, listener: listener, worker: worker, guard: ListenerGuard()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return (channel, worker, group)
    }

    /// Sends `text` (over mTLS as `sa` with `sni`, or plaintext when `sa` is nil) and returns what came back before the
    /// connection closed.
    static func call(_ port: Int, as sa: String?, sni: String? = nil, _ text: String, group: MultiThreadedEventLoopGroup) async throws -> String {
        let loop = group.next()
        let done = loop.makePromise(of: String.self)
        let context = try sa.map(TestPKI.clientContext)
        let ch = try await ClientBootstrap(group: loop)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    if let context { try ch.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: sni)) }
                    try ch.pipeline.syncOperations.addHandler(Collector(done))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        // The proxy may close a denied connection before this is written.
        try? await ch.writeAndFlush(ByteBuffer(string: text)).get()
        return try await done.futureResult.get()
    }

    static let get = "GET /x HTTP/1.1\r\nHost: reviews\r\nConnection: close\r\n\r\n"

    @Test func theCallersIdentityAndSNIReachHTTPRules() async throws {
        let rbac = Self.rbac(.authenticated(.exact("spiffe://cluster.local/ns/shop/sa/front")), .requestedServerName(.exact("reviews.shop")),
                             prefix: "http.in.rbac.")
        var routes = RouteTable(name: "r", virtualHosts: [VirtualHost(name: "vh", domains: ["*"], routes: [
            Route(match: RouteMatch(path: .prefix("/")), action: .direct(status: 200, body: "ok")),
        ])])
        routes.filterSettings = [RBACFilter.name: RBACSettings(instances: [rbac])]
        var listener = ListenerConfig(name: "in", host: "127.0.0.1", port: 0, kind: .http(routeTable: "r", statPrefix: "in"))
        listener.meshTLS = DownstreamMeshTLS(permissive: true, alpn: ["http/1.1"], forwardClientCert: true)
        listener.readsServerName = true
        let (server, worker, group) = try await Self.serve(listener, routes: HTTPFilterRegistry.compile(routes))
        let port = server.localAddress!.port!
        let allowed = try await Self.call(port, as: "front", sni: "reviews.shop", Self.get, group: group)
        #expect(allowed.hasPrefix("HTTP/1.1 200") && allowed.hasSuffix("ok"), "\(allowed)")
        let otherSNI = try await Self.call(port, as: "front", sni: "ratings.shop", Self.get, group: group)
        #expect(otherSNI.hasPrefix("HTTP/1.1 403") && otherSNI.hasSuffix("RBAC: access denied"), "\(otherSNI)")
        let otherCaller = try await Self.call(port, as: "intruder", sni: "reviews.shop", Self.get, group: group)
        #expect(otherCaller.hasPrefix("HTTP/1.1 403"), "\(otherCaller)")
        let plaintext = try await Self.call(port, as: nil, Self.get, group: group)
        #expect(plaintext.hasPrefix("HTTP/1.1 403"), "\(plaintext)")
        let counters = try await worker.loop.submit { worker.filterState.counters }.get()
        #expect(counters[StatName("http.in.rbac.allowed")] == 1 && counters[StatName("http.in.rbac.denied")] == 3)
        try await server.close()
        try await group.shutdownGracefully()
    }

    @Test func aTCPListenersNetworkRBACDecidesAfterTheHandshake() async throws {
        var listener = ListenerConfig(name: "tcp", host: "127.0.0.1", port: 0, kind: .tcp(clusters: [WeightedCluster(name: "none")], statPrefix: "tcp"))
        listener.meshTLS = DownstreamMeshTLS(permissive: false, alpn: [], forwardClientCert: false)
        listener.networkRBAC = [Self.rbac(.authenticated(.suffix("/sa/front")), .any, prefix: "inbound_tcp.rbac.")]
        let (server, worker, group) = try await Self.serve(listener)
        let port = server.localAddress!.port!
        // Both connections end (the allowed one has no upstream to go to); the counters tell them apart.
        _ = try await Self.call(port, as: "intruder", "hello", group: group)
        var counters = try await worker.loop.submit { worker.filterState.counters }.get()
        #expect(counters[StatName("inbound_tcp.rbac.denied")] == 1 && counters[StatName("inbound_tcp.rbac.allowed")] == nil)
        _ = try await Self.call(port, as: "front", "hello", group: group)
        counters = try await worker.loop.submit { worker.filterState.counters }.get()
        #expect(counters[StatName("inbound_tcp.rbac.allowed")] == 1)
        #expect(counters[StatName("inbound_tcp.rbac.policy.front.allowed")] == 1)
        // Closed connections are gone at once (no TLS shutdown left waiting), so the loops stop quickly.
        let closing = ContinuousClock.now
        try await server.close()
        try await group.shutdownGracefully()
        #expect(ContinuousClock.now - closing < .seconds(3))
    }
}
