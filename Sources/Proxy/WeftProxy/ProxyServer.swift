import Logging
import NIOCore
import NIOConcurrencyHelpers
import NIOPosix
import ProxyConfig
import ProxyRouting
import WeftCore
import WeftHTTPServer
import XDSClient
import ProxyIdentity
import EnvoyAPI

/// Settings of `weft proxy`, validated by the CLI.
public struct ProxySettings: Sendable {
    public var node: String
    public var namespace: String
    public var labels: [String: String]
    public var controlPlane: HostPort
    public var outbound: HostPort?
    public var inbound: [String]
    public var admin: HostPort
    public var concurrency: Int
    public var drainSeconds: Double
    public var addresses: [String]
    /// region/zone/subzone, sent as the xDS node's locality.
    public var locality: String?
    /// The workload's service account (`--service-account`).
    public var serviceAccount = "default"
    /// The join token (`--token`), presented until the proxy holds its mesh certificate.
    public var token: String?
    /// The mesh root from `--ca-cert`; without it, the root the token's fingerprint names.
    public var rootPEM: String?

    public init(node: String, namespace: String, labels: [String: String], controlPlane: HostPort, outbound: HostPort?,
                inbound: [String], admin: HostPort, concurrency: Int, drainSeconds: Double, addresses: [String],
                locality: String? = nil) {
        self.node = node
        self.namespace = namespace
        self.labels = labels
        self.controlPlane = controlPlane
        self.outbound = outbound
        self.inbound = inbound
        self.admin = admin
        self.concurrency = concurrency
        self.drainSeconds = drainSeconds
        self.addresses = addresses
        self.locality = locality
    }
}

/// `weft proxy`: runs until its task is cancelled, then drains.
public struct ProxyServer: Sendable {
    let settings: ProxySettings
    let logger: Logger

    public init(settings: ProxySettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        let runtime = ProxyRuntime(concurrency: settings.concurrency, logger: logger)
        // The admin page first, so /ready (not ready yet) answers while the proxy waits for its control plane.
        let ads = NIOLockedValueBox<ADSClient?>(nil)
        let admin = AdminPage(runtime: runtime, xdsStatus: {
            guard let s = ads.withLockedValue({ $0 })?.status else { return (false, nil) }
            return (s.connected, s.lastNACK)
        })
        let adminChannel = try await HTTPAPIServer(group: runtime.group) { await admin.handle($0) }.bind(settings.admin)
        // The mesh identity first: with a certificate the proxy says it takes mesh mTLS, and is sent it.
        let link = try ControlPlaneLink(address: settings.controlPlane, token: settings.token, rootPEM: settings.rootPEM)
        if link.isPlaintext {
            logger.warning("no --token or --ca-cert: xDS in plaintext, which only a control plane run with --insecure accepts")
        }
        let rotator = IdentityRotator(fetcher: CertificateFetcher(link: link, namespace: settings.namespace,
                                                                  serviceAccount: settings.serviceAccount, nodeID: settings.node),
                                      credentials: runtime.credentials, group: runtime.group, logger: logger)
        let identity = await rotator.first()
        if identity == nil { logger.warning("running without mesh mTLS: no certificate from the control plane") }
        var adsConfig = ADSClientConfig(controlPlane: settings.controlPlane, nodeID: settings.node, namespace: settings.namespace,
                                        labels: settings.labels, outbound: settings.outbound, inbound: settings.inbound,
                                        instanceIPs: settings.addresses, locality: settings.locality,
                                        serviceAccount: settings.serviceAccount)
        if identity != nil { adsConfig.extraFeatures = [WeftClientFeature.meshTLS] }
        adsConfig.admin = settings.admin
        let client = ADSClient(
            config: adsConfig,
            logger: logger,
            group: runtime.group,
            connection: ADSClient.Connection(security: { try link.transportSecurity() }, metadata: { link.metadata() }),
            onSnapshot: { await runtime.apply($0) }
        )
        ads.withLockedValue { $0 = client }
        logger.info("weft proxy started", metadata: ["node": "\(settings.node)", "admin": "\(settings.admin)",
                                                     "control_plane": "\(settings.controlPlane)", "concurrency": "\(settings.concurrency)"])
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await client.run() }
            if let identity {
                tasks.addTask {
                    await rotator.run(after: identity)
                    while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                }
            }
            tasks.addTask {
                // Envoy's initial_fetch_timeout: after 15 s, serve with whatever has arrived.
                try? await Task.sleep(for: .seconds(15))
                if !runtime.isReady, !Task.isCancelled {
                    logger.warning("config still incomplete after 15 s; opening listeners anyway")
                    await runtime.apply(runtime.snapshot, force: true)
                }
                // Like the other tasks, this one ends only when the proxy stops.
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            }
            tasks.addTask {
                // Runs until cancelled (SIGTERM), then the group ends.
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            }
            await tasks.next()
            tasks.cancelAll()
        }
        logger.info("draining", metadata: ["seconds": "\(settings.drainSeconds)"])
        try? await adminChannel.close()
        await runtime.drain(seconds: settings.drainSeconds)
    }
}
