import Foundation
import ProxyConfig
import WeftCore
import WeftJWT

/// One request's JWT check, as Envoy's jwt_authn verifiers and authenticator do it, synchronously (keys are always
/// inline): a provider requirement sanitizes the provider's own headers, takes the tokens from its locations and
/// checks each, last found first; every token found must verify. `any` succeeds with its first child that does,
/// else fails with the most telling child error (not "missing", then not "unknown issuer"); `allowMissing` lets a
/// request with no token at all through.
struct JWTAuthentication {
    let filter: JWTAuthnFilter
    /// Seconds since the epoch.
    let now: Double
    let cache: JWTTokenCache
    var cacheHits = 0
    var cacheMisses = 0

    init(filter: JWTAuthnFilter, now: Double, cache: JWTTokenCache) {
        self.filter = filter
        self.now = now
        self.cache = cache
    }

    /// nil when the requirement is met, else why not.
    mutating func verify(_ r: JWTRequirement, _ request: inout FilterRequest) -> JWTError? {
        switch r {
        case .none: return nil
        case let .provider(name, audiences):
            guard let p = filter.settings.provider(named: name), let extractor = filter.extractors[name] else { return .unknownIssuer }
            return authenticate(extractor, provider: p, audiences: audiences, allowMissing: false, allowFailed: false, &request)
        case .allowMissing:
            return authenticate(filter.allProviders, provider: nil, audiences: nil, allowMissing: true, allowFailed: false, &request)
        case .allowMissingOrFailed:
            return authenticate(filter.allProviders, provider: nil, audiences: nil, allowMissing: true, allowFailed: true, &request)
        case let .all(children):
            for c in children { if let e = verify(c, &request) { return e } }
            return nil
        case let .any(children, allowMissing, allowMissingOrFailed):
            if children.isEmpty { return verify(allowMissingOrFailed ? .allowMissingOrFailed : .allowMissing, &request) }
            var worst = JWTError.missing
            for c in children {
                guard let e = verify(c, &request) else { return nil }
                if (e != .missing && e != .unknownIssuer) || worst == .missing { worst = e }
            }
            if allowMissingOrFailed || (allowMissing && worst == .missing) { return nil }
            return worst
        }
    }

    /// Envoy's AuthenticatorImpl: `provider` nil checks each token with the provider of its issuer.
    mutating func authenticate(_ extractor: JWTExtractor, provider: JWTProvider?, audiences: [String]?, allowMissing: Bool,
                               allowFailed: Bool, _ request: inout FilterRequest) -> JWTError? {
        for h in extractor.sanitized where request.header(h) != nil { request.removeHeader(h) }
        var tokens = extractor.extract(request)
        var status: JWTError? = .missing
        while let t = tokens.popLast() {
            status = check(t, provider: provider, audiences: audiences, &request)
            if status != nil && !allowFailed && !allowMissing { break }
        }
        if allowFailed || (allowMissing && status == .missing) { return nil }
        return status
    }

    mutating func check(_ t: JWTExtractor.Token, provider: JWTProvider?, audiences: [String]?, _ request: inout FilterRequest) -> JWTError? {
        if let p = provider, let hit = cache.lookup(t.text, provider: p.name) {
            cacheHits += 1
            // The verdict on the token's audiences for these allowed ones cannot have changed.
            return checked(hit.jwt, t, provider: provider, audiences: audiences, cached: true, audiencesChecked: hit.audiences == audiences, &request)
        }
        if provider != nil { cacheMisses += 1 }
        let jwt: JWT
        do { jwt = try JWT(compact: t.text) } catch { return error }
        return checked(jwt, t, provider: provider, audiences: audiences, cached: false, audiencesChecked: false, &request)
    }

    /// The checks after decoding (or finding the token in the cache): issuer, time, audiences, signature.
    mutating func checked(_ jwt: JWT, _ t: JWTExtractor.Token, provider: JWTProvider?, audiences: [String]?, cached: Bool,
                          audiencesChecked: Bool, _ request: inout FilterRequest) -> JWTError? {
        let issuer = jwt.issuer ?? ""
        guard t.location.allows(issuer) else { return .unknownIssuer }
        guard let p = provider ?? providerFor(issuer: issuer) else { return .unknownIssuer }
        if let e = jwt.checkTime(now: now, clockSkew: p.clockSkew) { return e }
        if !audiencesChecked, let e = JWTVerifier.checkAudiences(jwt, allowed: audiences ?? p.audiences) { return e }
        if !cached, let e = jwt.verify(keys: p.keys) { return e }
        accept(jwt, p, t, &request)
        if provider != nil && !cached { cache.insert(t.text, provider: p.name, audiences: audiences, jwt) }
        return nil
    }

    /// The first provider with this issuer, else the first without one (Envoy's JwksCache::findByIssuer).
    func providerFor(issuer: String) -> JWTProvider? {
        filter.settings.providers.first { $0.issuer == issuer } ?? filter.settings.providers.first { $0.issuer.isEmpty }
    }

    /// What a verified token turns into: the payload header, claim headers, the token removed from its header
    /// (unless forwarded), the payload (and header) in metadata.
    func accept(_ jwt: JWT, _ p: JWTProvider, _ t: JWTExtractor.Token, _ request: inout FilterRequest) {
        if let h = p.forwardPayloadHeader {
            var payload = String(jwt.payloadBase64URL)
            if p.padForwardPayloadHeader { payload += String(repeating: "=", count: (4 - payload.utf8.count % 4) % 4) }
            request.addHeader(h, payload)
        }
        for c in p.claimToHeaders {
            if let v = jwt.claims.value(at: c.claim).flatMap(Self.headerValue) { request.addHeader(c.header, v) }
        }
        if !p.forward, case let .header(name, _) = t.location.place { request.removeHeader(name) }
        if let key = p.headerInMetadata { request.metadata.set(filter: JWTAuthnSettings.filterName, key: key, jwt.header) }
        if let key = p.payloadInMetadata { request.metadata.set(filter: JWTAuthnSettings.filterName, key: key, jwt.claims) }
    }

    /// A claim as Envoy writes it into a header: strings as they are, whole numbers without a fraction (others as
    /// `%f`), booleans as `true`/`false`, objects and lists as base64 of their JSON; nothing for null.
    static func headerValue(_ v: JSONValue) -> String? {
        switch v {
        case let .string(s): return s.isEmpty ? nil : s
        case let .number(n):
            if n >= 0, n < 18_446_744_073_709_551_616, n.rounded(.towardZero) == n { return String(UInt64(n)) }
            return String(format: "%f", n)
        case let .bool(b): return b ? "true" : "false"
        case .object, .array: return Data(v.serialized().utf8).base64EncodedString()
        case .null: return nil
        }
    }
}

/// A worker's verified tokens (Envoy's per-provider JWT cache): the decoded token by its text, with the provider
/// that verified it and the audiences it was checked against, at most `capacity` of them, the oldest replaced
/// first. Looked up by the token as it sits in the request (no copy), hashing only its signature's end. Used on one
/// event loop only.
final class JWTTokenCache {
    static let defaultCapacity = 128
    final class Entry {
        let provider: String
        /// The audiences a requirement named instead of the provider's (nil: the provider's).
        let audiences: [String]?
        let jwt: JWT

        init(provider: String, audiences: [String]?, jwt: JWT) {
            self.provider = provider
            self.audiences = audiences
            self.jwt = jwt
        }
    }

    /// A token's text as a key: equal when the bytes are; hashed on its length and its last 64 bytes (the end of the
    /// signature, which no two tokens share), so a lookup does not hash the whole token.
    struct Key: Hashable {
        let text: Substring

        func hash(into hasher: inout Hasher) {
            var t = text
            t.withUTF8 { b in hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: b.suffix(64)))) }
            hasher.combine(text.utf8.count)
        }

        static func == (a: Key, b: Key) -> Bool {
            var x = a.text, y = b.text
            return x.withUTF8 { p in
                y.withUTF8 { q in p.count == q.count && (p.isEmpty || memcmp(p.baseAddress!, q.baseAddress!, p.count) == 0) }
            }
        }
    }

    let capacity: Int
    private var entries: [Key: Entry] = [:]
    private var order: [Key] = []
    private var next = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    func lookup(_ token: Substring, provider: String) -> Entry? {
        guard let e = entries[Key(text: token)], e.provider == provider else { return nil }
        return e
    }

    func insert(_ token: Substring, provider: String, audiences: [String]? = nil, _ jwt: JWT) {
        // Keep only the token's own bytes, not the whole header value it was found in.
        let key = Key(text: Substring(String(token)))
        if entries.updateValue(Entry(provider: provider, audiences: audiences, jwt: jwt), forKey: key) != nil { return }
        if order.count < capacity {
            order.append(key)
        } else {
            entries.removeValue(forKey: order[next])
            order[next] = key
            next = (next + 1) % capacity
        }
    }

    var count: Int { entries.count }
}
