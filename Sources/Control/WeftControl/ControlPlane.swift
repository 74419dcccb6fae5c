import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOCore
import NIOPosix
import WeftConfig
import WeftCore
import WeftHTTPServer
import WeftModel
import WeftRegistry
import XDSServer

/// Settings of `weft control`, validated by the CLI.
public struct ControlPlaneConfig: Sendable {
    public var configDirectory: URL?
    public var dataDirectory: URL?
    public var xds: HostPort
    public var api: HostPort
    public var debounce: Duration
    public var pollInterval: Duration
    /// The API's request body limit (413 above it).
    public var maxRequestBytes = Self.defaultMaxRequestBytes
    public static let defaultMaxRequestBytes = HTTPAPIServer.defaultMaxBodyBytes
    /// Limits written into every listener of every proxy (`--limits`).
    public var limits = ListenerLimits.standard
    /// Access log and tracing providers and defaults, from Istio's MeshConfig (`--mesh-config`).
    public var meshTelemetry = MeshTelemetryConfig.standard
    /// The mesh CA and mutual TLS settings (`--ca-dir`, `--trust-domain`, `--cert-ttl`, `--root-namespace`).
    public var security = SecuritySettings()
    /// How often the key sets of RequestAuthentication `jwksUri`s are fetched again (`--jwks-refresh`; istiod's
    /// default, 20 minutes).
    public var jwksRefresh: Duration = .seconds(20 * 60)
    /// How often the proxies' metrics are read for the service graph (`--metrics-interval`); nil: never.
    public var metricsInterval: Duration? = .seconds(5)
    /// Services declared before the config folder is read (`weft up` declares its mesh file's services).
    public var declared: [(namespace: String, services: [RegisteredService])]

    public init(configDirectory: URL?, dataDirectory: URL?, xds: HostPort, api: HostPort,
                debounce: Duration = .milliseconds(100), pollInterval: Duration = .milliseconds(200),
                declared: [(namespace: String, services: [RegisteredService])] = []) {
        self.declared = declared
        self.configDirectory = configDirectory
        self.dataDirectory = dataDirectory
        self.xds = xds
        self.api = api
        self.debounce = debounce
        self.pollInterval = pollInterval
    }
}

/// `weft control`: runs until its task is cancelled.
public struct ControlPlane: Sendable {
    let config: ControlPlaneConfig
    let logger: Logger
    let clock: any WallClock
    let group: MultiThreadedEventLoopGroup
    let jwks: JWKSFetcher

    public init(config: ControlPlaneConfig, logger: Logger, clock: any WallClock, group: MultiThreadedEventLoopGroup) {
        self.config = config
        self.logger = logger
        self.clock = clock
        self.group = group
        jwks = JWKSFetcher(refresh: config.jwksRefresh, logger: logger)
    }

    public func run() async throws {
        let ca = try MeshCAFactory.make(config.security, dataDirectory: config.dataDirectory, now: Date(timeIntervalSince1970: clock.now()))
        logger.info("mesh CA ready", metadata: ["origin": "\(ca.authority.origin)", "trust-domain": "\(ca.trustDomain)"])
        let tokens = try APITokens.make(config.security, dataDirectory: config.dataDirectory)
        if tokens == nil { logger.warning("--insecure: the API takes requests without a token from anyone who can reach it") }
        let registry = try MeshRegistry(store: config.dataDirectory.map { FileStore(directory: $0) }, clock: clock,
                                        telemetryProviders: config.meshTelemetry.providerKinds)
        for d in config.declared { registry.declare(namespace: d.namespace, services: d.services) }
        let folder = config.configDirectory.map { ConfigFolder(directory: $0) }
        if let folder { reload(folder, registry) }
        let hub = SnapshotHub()
        let book = ProxyStatusBook()
        _ = await jwks.fetchNew(snapshot(registry).access.jwksURIs)
        hub.publish(snapshot(registry))
        let cache = XDSCache(generator: TranslatorGenerator())
        // Closed unless --insecure: TLS, and every stream and CSR authenticated by a token or a mesh certificate.
        let gate: (any XDSAuthenticator)? = tokens.map { MeshXDSAuthenticator(ca: ca, tokens: $0.0, clock: clock) }
        let security: HTTP2ServerTransport.Posix.TransportSecurity = tokens == nil ? .plaintext
            : try XDSServerTLS.make(ca: ca, namespace: config.security.rootNamespace, now: Date(timeIntervalSince1970: clock.now()))
        let ads = AggregatedDiscoveryServer(hub: hub, book: book, logger: logger, cache: cache,
                                            secrets: CASecretSource(ca: ca, clock: clock), authenticator: gate)
        let address: GRPCNIOTransportCore.SocketAddress = config.xds.isIPv6
            ? .ipv6(host: config.xds.host, port: config.xds.port) : .ipv4(host: config.xds.host, port: config.xds.port)
        let server = GRPCServer(transport: .http2NIOPosix(address: address, transportSecurity: security, eventLoopGroup: group),
                                services: [ads, CertificateService(ca: ca, book: book, clock: clock, logger: logger, authenticator: gate)])
        let collector = config.metricsInterval.map { MetricsCollector(book: book, interval: $0, logger: logger) }
        var routes = ControlAPI(registry: registry, book: book, cache: cache, hub: hub, auth: APIAuth(tokens: tokens?.0, clock: clock, rootFingerprint: ca.rootFingerprint))
        if let collector { routes.graph = { collector.graph } }
        let api = routes
        let https = tokens == nil ? nil : try APITLS.secure(ca: ca, api: config.api, namespace: config.security.rootNamespace,
                                                           now: Date(timeIntervalSince1970: clock.now()))
        let channel = try await HTTPAPIServer(group: group, maxBodyBytes: config.maxRequestBytes,
                                          timeouts: HTTPAPIServer.RequestTimeouts()) { await api.handle($0) }.bind(config.api, secure: https)
        if let admin = tokens?.adminToken, config.security.recordInCLIConfig {
            do { try CLIConfigFile.record(server: config.api.description, token: admin, now: clock.now(), rootFingerprint: ca.rootFingerprint) } catch {
                logger.warning("cannot record the API in the CLI config", metadata: ["file": "\(CLIConfigFile.path)", "error": "\(error)"])
            }
        }
        logger.info("weft control started", metadata: ["xds": "\(config.xds)", "api": "\(https == nil ? "http" : "https")://\(config.api)",
                                                       "resources": "\(registry.resources().count)"])
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await server.serve() }
            tasks.addTask { try await channel.closeFuture.get() }
            tasks.addTask { await publish(registry, hub) }
            tasks.addTask { await jwks.run { registry.touch() } }
            if let collector { tasks.addTask { await collector.run() } }
            tasks.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: .milliseconds(250))
                    for name in registry.expire() { logger.info("workload expired", metadata: ["workload": "\(name)"]) }
                }
            }
            if let folder {
                tasks.addTask { try await watch(folder, registry) }
            }
            defer {
                server.beginGracefulShutdown()
                channel.close(promise: nil)
            }
            try await tasks.next()
            tasks.cancelAll()
        }
    }

    /// Debounces registry changes and publishes one MeshState per quiet period.
    func publish(_ registry: MeshRegistry, _ hub: SnapshotHub) async {
        for await _ in registry.changes {
            try? await Task.sleep(for: config.debounce)
            var mesh = snapshot(registry)
            if await jwks.fetchNew(mesh.access.jwksURIs) { mesh = snapshot(registry) }
            hub.publish(mesh)
            logger.info("config pushed", metadata: ["version": "\(mesh.version)", "services": "\(mesh.services.count)"])
        }
    }

    /// The registry's state with the mesh-wide settings of this control plane.
    func snapshot(_ registry: MeshRegistry) -> MeshState {
        var mesh = registry.meshState()
        mesh.limits = config.limits
        mesh.telemetry.mesh = config.meshTelemetry
        mesh.mutualTLS.trustDomain = config.security.trustDomain
        mesh.mutualTLS.rootNamespace = config.security.rootNamespace
        mesh.access.rootNamespace = config.security.rootNamespace
        jwks.want(mesh.access.jwksURIs)
        mesh.access.fetchedJWKS = jwks.keys()
        return mesh
    }

    func watch(_ folder: ConfigFolder, _ registry: MeshRegistry) async throws {
        var last = folder.fingerprint()
        while !Task.isCancelled {
            try await Task.sleep(for: config.pollInterval)
            let now = folder.fingerprint()
            if now != last {
                last = now
                reload(folder, registry)
            }
        }
    }

    func reload(_ folder: ConfigFolder, _ registry: MeshRegistry) {
        registry.reload(folder: folder.read())
        for d in registry.errors() { logger.error("config refused", metadata: ["error": "\(d)"]) }
    }
}
