import Foundation
import GRPCCore
import Logging
import NIOCore
import ProxyUpstream
import WeftCore

/// Keeps the proxy's certificate fresh: the first one at start, then a new key and certificate at half of each
/// lifetime. A failed renewal is retried every few seconds while the current certificate stays in use.
public struct IdentityRotator: Sendable {
    let fetcher: CertificateFetcher
    let credentials: MeshCredentials
    let group: any EventLoopGroup
    let logger: Logger

    public init(fetcher: CertificateFetcher, credentials: MeshCredentials, group: any EventLoopGroup, logger: Logger) {
        self.fetcher = fetcher
        self.credentials = credentials
        self.group = group
        self.logger = logger
    }

    /// The first certificate, retried with backoff while the control plane cannot be reached (as Istio's agent
    /// holds Envoy back until it has one); nil when the control plane has no certificate service (an older one):
    /// the proxy then runs without mesh mTLS.
    public func first() async -> CertificateFetcher.Issued? {
        var wait = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                let start = ContinuousClock.now
                let issued = try await fetcher.fetch(group: group)
                install(issued, took: ContinuousClock.now - start)
                return issued
            } catch let e as RPCError where e.code == .unimplemented {
                logger.warning("the control plane issues no certificates: running without mesh mTLS", metadata: ["error": "\(e)"])
                return nil
            } catch {
                logger.warning("no mesh certificate yet; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: wait)
                wait = min(wait * 2, .seconds(2))
            }
        }
        return nil
    }

    /// Renews from `issued` on until cancelled.
    public func run(after issued: CertificateFetcher.Issued) async {
        var next = issued.renewAt
        while !Task.isCancelled {
            let wait = max(0.05, next.timeIntervalSinceNow)
            do { try await Task.sleep(for: .milliseconds(Int64(wait * 1000))) } catch { return }
            do {
                let start = ContinuousClock.now
                let renewed = try await fetcher.fetch(group: group)
                install(renewed, took: ContinuousClock.now - start)
                next = renewed.renewAt
            } catch {
                logger.error("certificate renewal failed; retrying", metadata: ["error": "\(error)"])
                next = Date().addingTimeInterval(3)
            }
        }
    }

    /// `took`: key, CSR, the call to the control plane and the TLS contexts, end to end (bench/run.sh reports it).
    func install(_ issued: CertificateFetcher.Issued, took: Duration) {
        credentials.update(issued.contexts)
        fetcher.link.installCredential(chainPEM: issued.chainPEM, keyPEM: issued.keyPEM, notAfter: issued.notAfter)
        logger.info("mesh certificate installed", metadata: ["identity": "\(issued.contexts.identity)", "serial": "\(issued.contexts.serial)",
                                                             "expires": "\(issued.notAfter)", "took_ms": "\(String(format: "%.2f", took.milliseconds))"])
    }
}
