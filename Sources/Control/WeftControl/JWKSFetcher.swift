import Logging
import NIOCore
import NIOSSL
import Synchronization
import WeftConfig
import WeftCore
import WeftHTTPClient

/// Fetches the key sets of RequestAuthentication `jwksUri`s for the proxies, as istiod does: at once when a URI
/// first appears, then every `refresh`. Proxies get the keys inline in their config and never reach out. A
/// failed fetch keeps the last good keys (a URI never fetched gives its issuer keys nobody holds, so its tokens
/// are refused rather than the rule vanishing); a key set that does not parse is logged and not used.
final class JWKSFetcher: Sendable {
    struct State {
        var keys: [String: String] = [:]
        var wanted: Set<String> = []
        var lastRound: ContinuousClock.Instant?
    }

    let refresh: Duration
    let logger: Logger
    let state = Mutex(State())

    init(refresh: Duration, logger: Logger) {
        self.refresh = refresh
        self.logger = logger
    }

    /// The key sets fetched so far, by URI.
    func keys() -> [String: String] { state.withLock { $0.keys } }

    /// The URIs the current config names (fetched on the next tick when new).
    func want(_ uris: Set<String>) { state.withLock { $0.wanted = uris } }

    /// Fetches the URIs of `uris` never fetched yet, before a snapshot naming them is published (so proxies get
    /// the keys with the rule, not a moment later). True when a key set was added.
    func fetchNew(_ uris: Set<String>) async -> Bool {
        let new = state.withLock { s in uris.subtracting(s.keys.keys) }
        var added = false
        for uri in new.sorted() {
            guard let text = await fetch(uri) else { continue }
            state.withLock { $0.keys[uri] = text }
            added = true
        }
        return added
    }

    /// Fetches new URIs within a tick and all of them every `refresh`; calls `changed` when a key set changed.
    func run(tick: Duration = .milliseconds(100), changed: @escaping @Sendable () -> Void) async {
        while !Task.isCancelled {
            let due: Set<String> = state.withLock { s in
                let now = ContinuousClock.now
                if let last = s.lastRound, now - last < refresh { return s.wanted.subtracting(s.keys.keys) }
                s.lastRound = now
                return s.wanted
            }
            var updated = false
            for uri in due.sorted() {
                guard let text = await fetch(uri) else { continue }
                updated = state.withLock { s in
                    defer { s.keys[uri] = text }
                    return s.keys[uri] != text
                } || updated
            }
            state.withLock { s in s.keys = s.keys.filter { s.wanted.contains($0.key) } }
            if updated { changed() }
            try? await Task.sleep(for: tick)
        }
    }

    /// TLS checked against the system's trust store, with SNI.
    static func tls(serverName: String) -> @Sendable (Channel) throws -> Void {
        { ch in
            let context = try NIOSSLContext(configuration: .makeClientConfiguration())
            try ch.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: IPAddressText.isIP(serverName) ? nil : serverName))
        }
    }

    /// One fetch; nil (logged) when it fails or the answer is not a usable key set.
    func fetch(_ uri: String) async -> String? {
        guard let u = URLParts(uri) else {
            logger.error("jwksUri is not an http(s) URL", metadata: ["uri": "\(uri)"])
            return nil
        }
        do {
            let r = try await HTTPClient.send("GET", to: .init(host: u.host, port: u.port), target: u.path, host: u.authority,
                                              headers: [("accept", "application/json")], timeout: .seconds(5),
                                              secure: u.isHTTPS ? Self.tls(serverName: u.host) : nil)
            guard r.status == 200 else {
                logger.warning("cannot fetch JWKS", metadata: ["uri": "\(uri)", "status": "\(r.status)"])
                return nil
            }
            if let problem = JWKSCheck.problem(r.body) {
                logger.error("jwksUri did not return a usable key set", metadata: ["uri": "\(uri)", "error": "\(problem)"])
                return nil
            }
            return r.body
        } catch {
            logger.warning("cannot fetch JWKS", metadata: ["uri": "\(uri)", "error": "\(error)"])
            return nil
        }
    }
}
