import Crypto
import CryptoExtras
import Foundation
import ProxyConfig
@testable import ProxyRouting
import Testing
import WeftCore
import WeftJWT

/// Keys and tokens made here with swift-crypto (no JWT library): an EC P-256 and an RSA key with their JWKS, and
/// compact JWS tokens signed with them.
enum TestTokens {
    static let issuer = "https://issuer.test"
    static let audience = "weft-tests"
    static let t0: Double = 1_700_000_000
    static let ec = P256.Signing.PrivateKey()
    static let otherEC = P256.Signing.PrivateKey()
    static let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)

    static func b64(_ d: some Sequence<UInt8>) -> String { Base64URL.encode(d) }

    static var jwks: String {
        let xy = Array(ec.publicKey.rawRepresentation)
        let p = try! rsa.publicKey.getKeyPrimitives()
        return JSONValue.object([("keys", .array([
            .object([("kty", .string("EC")), ("crv", .string("P-256")), ("kid", .string("ec-1")), ("alg", .string("ES256")),
                     ("x", .string(b64(xy[0..<32]))), ("y", .string(b64(xy[32...])))]),
            .object([("kty", .string("RSA")), ("kid", .string("rsa-1")), ("alg", .string("RS256")),
                     ("n", .string(b64(p.modulus))), ("e", .string(b64(p.publicExponent)))]),
        ]))]).serialized()
    }

    enum Signer { case ec(P256.Signing.PrivateKey), rsa }

    /// A token with the usual claims (iss, aud, exp an hour after t0) and `extra` ones (which replace them).
    static func mint(sub: String = "alice", signer: Signer = .ec(ec), kid: String? = nil, extra: [(String, JSONValue)] = [],
                     without: Set<String> = []) -> String {
        var claims: [(String, JSONValue)] = [("iss", .string(issuer)), ("sub", .string(sub)), ("aud", .string(audience)),
                                             ("exp", .number(t0 + 3600)), ("iat", .number(t0))]
        for (k, v) in extra {
            if let i = claims.firstIndex(where: { $0.0 == k }) { claims[i].1 = v } else { claims.append((k, v)) }
        }
        claims.removeAll { without.contains($0.0) }
        let alg: String, defaultKid: String
        switch signer {
        case .ec: (alg, defaultKid) = ("ES256", "ec-1")
        case .rsa: (alg, defaultKid) = ("RS256", "rsa-1")
        }
        let header = JSONValue.object([("alg", .string(alg)), ("kid", .string(kid ?? defaultKid)), ("typ", .string("JWT"))])
        let input = b64(Array(header.serialized().utf8)) + "." + b64(Array(JSONValue.object(claims).serialized().utf8))
        let sig: [UInt8]
        switch signer {
        case let .ec(k): sig = Array(try! k.signature(for: Array(input.utf8)).rawRepresentation)
        case .rsa: sig = Array(try! rsa.signature(for: SHA256.hash(data: Array(input.utf8)), padding: .insecurePKCS1v1_5).rawRepresentation)
        }
        return input + "." + b64(sig)
    }
}

struct FixedClock: WallClock {
    let time: Double
    func now() -> Double { time }
}

/// The JWT filter: tokens minted in the test, a fixed clock, tables of outcomes with Envoy's answers.
@Suite struct JWTAuthnFilterTests {
    typealias K = TestTokens
    static let keys = try! JWKS(json: K.jwks)

    static func provider(forward: Bool = false, locations: [JWTLocation] = JWTLocation.defaults, payloadHeader: String? = nil) -> JWTProvider {
        JWTProvider(name: K.issuer, issuer: K.issuer, audiences: [K.audience], keys: keys, forward: forward, locations: locations,
                    forwardPayloadHeader: payloadHeader, payloadInMetadata: "payload",
                    claimToHeaders: [JWTClaimToHeader(header: "x-jwt-sub", claim: "sub"), JWTClaimToHeader(header: "x-jwt-level", claim: "level"),
                                     JWTClaimToHeader(header: "x-jwt-admin", claim: "admin"), JWTClaimToHeader(header: "x-jwt-team", claim: "org.team")])
    }

    /// Istio's requirement: any provider, or no token at all.
    static let istio = JWTRequirement.any([.provider(K.issuer, audiences: nil)], allowMissing: true, allowMissingOrFailed: false)

    static func filter(_ provider: JWTProvider = provider(), requirement: JWTRequirement = istio) -> JWTAuthnFilter {
        JWTAuthnFilter(settings: JWTAuthnSettings(providers: [provider], rules: [JWTRequirementRule(match: RouteMatch(path: .prefix("/")),
                                                                                                      requirement: requirement)],
                                                  statPrefix: "http.in."))!
    }

    static func request(_ token: String?, uri: String = "/x", headers: [(String, String)] = [], worker: WorkerFilterState) -> FilterRequest {
        FilterRequest(method: "GET", headers: HeaderList(headers + (token.map { [("authorization", "Bearer \($0)")] } ?? [])), uri: uri,
                      authority: "reviews", worker: worker)
    }

    static func worker(at time: Double = K.t0) -> WorkerFilterState { WorkerFilterState(wallClock: FixedClock(time: time)) }

    static func refused(_ status: Int, _ body: String, realm: String = "http://reviews/x", invalidToken: Bool = true) -> FilterVerdict {
        .reply(LocalReply(status: status, flag: nil, body: body,
                          headers: ["www-authenticate": "Bearer realm=\"\(realm)\"" + (invalidToken ? ", error=\"invalid_token\"" : "")]))
    }

    @Test func aRequestWithoutATokenPassesAndCannotBringItsOwnClaimHeaders() {
        let w = Self.worker()
        var r = Self.request(nil, headers: [("x-jwt-sub", "mallory")], worker: w)
        #expect(Self.filter().decodeHeaders(&r, now: .now, random: { _ in 0 }) == .proceed)
        #expect(r.header("x-jwt-sub") == nil, "claim headers are sanitized, as Envoy does")
        #expect(r.metadata.isEmpty)
        #expect(w.counters[StatName("http.in.jwt_authn.allowed")] == 1)
    }

    @Test(arguments: [("ES256", TestTokens.mint()), ("RS256", TestTokens.mint(signer: .rsa))])
    func aValidTokenWritesThePayloadAndClaimHeadersAndIsRemoved(_ alg: String, _ token: String) {
        let w = Self.worker()
        var r = Self.request(token, headers: [("x-jwt-sub", "mallory")], worker: w)
        #expect(Self.filter().decodeHeaders(&r, now: .now, random: { _ in 0 }) == .proceed, "\(alg)")
        #expect(r.metadata.value(filter: "envoy.filters.http.jwt_authn", path: ["payload", "sub"]) == .string("alice"))
        #expect(r.metadata.value(filter: "envoy.filters.http.jwt_authn", path: ["payload", "iss"]) == .string(K.issuer))
        #expect(r.header("x-jwt-sub") == "alice")
        #expect(r.header("authorization") == nil, "forward defaults to false")
        var upstream = HeaderList([("x-jwt-sub", "mallory"), ("authorization", "Bearer \(token)")])
        r.headerEdits.apply(to: &upstream)
        #expect(upstream == HeaderList([("x-jwt-sub", "alice")]))
    }

    @Test func claimsOfOtherTypesBecomeHeadersAsEnvoyWritesThem() {
        let token = K.mint(extra: [("level", .number(3)), ("admin", .bool(true)), ("org", .object([("team", .string("blue"))]))])
        var r = Self.request(token, worker: Self.worker())
        #expect(Self.filter().decodeHeaders(&r, now: .now, random: { _ in 0 }) == .proceed)
        #expect(r.header("x-jwt-level") == "3")
        #expect(r.header("x-jwt-admin") == "true")
        #expect(r.header("x-jwt-team") == "blue", "a claim name with dots is a path")
    }

    @Test func forwardKeepsTheTokenAndThePayloadHeaderCarriesThePayload() {
        let token = K.mint()
        var r = Self.request(token, worker: Self.worker())
        #expect(Self.filter(Self.provider(forward: true, payloadHeader: "x-jwt-payload")).decodeHeaders(&r, now: .now, random: { _ in 0 }) == .proceed)
        #expect(r.header("authorization") == "Bearer \(token)")
        #expect(r.header("x-jwt-payload") == String(token.split(separator: ".")[1]))
    }

    static let failures: [(String, String, Double, Int, String)] = [
        ("expired", TestTokens.mint(extra: [("exp", .number(TestTokens.t0 - 600))]), TestTokens.t0, 401, "Jwt is expired"),
        ("expired within the clock skew", TestTokens.mint(extra: [("exp", .number(TestTokens.t0 - 30))]), TestTokens.t0, 0, ""),
        ("not yet valid", TestTokens.mint(extra: [("nbf", .number(TestTokens.t0 + 600))]), TestTokens.t0, 401, "Jwt not yet valid"),
        ("another issuer", TestTokens.mint(extra: [("iss", .string("https://other.test"))]), TestTokens.t0, 401, "Jwt issuer is not configured"),
        ("no issuer", TestTokens.mint(without: ["iss"]), TestTokens.t0, 401, "Jwt issuer is not configured"),
        // Envoy answers a wrong audience with 403.
        ("another audience", TestTokens.mint(extra: [("aud", .string("someone-else"))]), TestTokens.t0, 403, "Audiences in Jwt are not allowed"),
        ("audience in a list", TestTokens.mint(extra: [("aud", .array([.string("x"), .string(TestTokens.audience)]))]), TestTokens.t0, 0, ""),
        ("an unknown kid", TestTokens.mint(kid: "nope"), TestTokens.t0, 401, "Jwks doesn't have key to match kid or alg from Jwt"),
        ("signed by another key", TestTokens.mint(signer: .ec(TestTokens.otherEC)), TestTokens.t0, 401, "Jwt verification fails"),
        ("malformed", "not-a-jwt", TestTokens.t0, 401, "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections"),
    ]

    @Test func aTokenThatDoesNotVerifyIsRefusedWithEnvoysText() {
        for (name, token, now, status, body) in Self.failures {
            let w = Self.worker(at: now)
            var r = Self.request(token, worker: w)
            let verdict = Self.filter().decodeHeaders(&r, now: .now, random: { _ in 0 })
            #expect(verdict == (status == 0 ? .proceed : Self.refused(status, body)), "\(name)")
        }
    }

    @Test func everyTokenMustVerify() {
        let good = K.mint(), bad = K.mint(extra: [("exp", .number(K.t0 - 600))])
        var r = FilterRequest(method: "GET", headers: HeaderList([("authorization", "Bearer \(good)")]), uri: "/x?access_token=\(bad)",
                              authority: "reviews", worker: Self.worker())
        // The realm names the URL with its path cut at 256 bytes, as Envoy's.
        let realm = "http://reviews" + String("/x?access_token=\(bad)".prefix(256))
        #expect(Self.filter().decodeHeaders(&r, now: .now, random: { _ in 0 }) == Self.refused(401, "Jwt is expired", realm: realm))
    }

    @Test func theDefaultLocationsIncludeTheAccessTokenParameter() {
        var r = FilterRequest(method: "GET", headers: HeaderList(), uri: "/x?a=1&access_token=\(K.mint(sub: "q"))", authority: "reviews",
                              worker: Self.worker())
        #expect(Self.filter().decodeHeaders(&r, now: .now, random: { _ in 0 }) == .proceed)
        #expect(r.header("x-jwt-sub") == "q")
    }

    @Test func configuredLocationsReplaceTheDefaults() {
        let p = Self.provider(locations: [.header(name: "x-token", prefix: ""), .cookie("session")])
        var fromHeader = Self.request(nil, headers: [("x-token", K.mint(sub: "h"))], worker: Self.worker())
        #expect(Self.filter(p).decodeHeaders(&fromHeader, now: .now, random: { _ in 0 }) == .proceed)
        #expect(fromHeader.header("x-jwt-sub") == "h" && fromHeader.header("x-token") == nil)
        var fromCookie = Self.request(nil, headers: [("cookie", "a=b; session=\(K.mint(sub: "c"))")], worker: Self.worker())
        #expect(Self.filter(p).decodeHeaders(&fromCookie, now: .now, random: { _ in 0 }) == .proceed)
        #expect(fromCookie.header("x-jwt-sub") == "c")
        // The bearer header is not a location of this provider: a token there is not looked at.
        var ignored = Self.request("garbage", worker: Self.worker())
        #expect(Self.filter(p).decodeHeaders(&ignored, now: .now, random: { _ in 0 }) == .proceed)
    }

    @Test func aProviderRequirementRefusesAMissingToken() {
        var r = Self.request(nil, worker: Self.worker())
        #expect(Self.filter(requirement: .provider(K.issuer, audiences: nil)).decodeHeaders(&r, now: .now, random: { _ in 0 })
                == Self.refused(401, "Jwt is missing", invalidToken: false))
        var aud = Self.request(K.mint(extra: [("aud", .string("other"))]), worker: Self.worker())
        #expect(Self.filter(requirement: .provider(K.issuer, audiences: ["other"])).decodeHeaders(&aud, now: .now, random: { _ in 0 }) == .proceed,
                "provider_and_audiences replaces the provider's audiences")
    }

    @Test func aVerifiedTokenIsCachedPerWorkerAndItsExpiryCheckedOnEveryHit() {
        let f = Self.filter(), token = K.mint()
        let w = Self.worker()
        for _ in 0..<3 {
            var r = Self.request(token, worker: w)
            #expect(f.decodeHeaders(&r, now: .now, random: { _ in 0 }) == .proceed)
            #expect(r.header("x-jwt-sub") == "alice")
        }
        #expect(w.counters[StatName("http.in.jwt_authn.jwt_cache_miss")] == 1)
        #expect(w.counters[StatName("http.in.jwt_authn.jwt_cache_hit")] == 2)
        // Same worker state, two hours later: the cached token has expired.
        let later = WorkerFilterState(wallClock: FixedClock(time: K.t0 + 7200))
        var r = Self.request(token, worker: later)
        #expect(f.decodeHeaders(&r, now: .now, random: { _ in 0 }) == Self.refused(401, "Jwt is expired"))
    }

    @Test func aCachedHitStillNeedsTheSameProviderAndChecksAudience() {
        let token = K.mint()
        let w = Self.worker()
        var r = Self.request(token, worker: w)
        #expect(Self.filter().decodeHeaders(&r, now: .now, random: { _ in 0 }) == .proceed)
        // Another config (another filter instance): its own cache, so a full check.
        let strict = JWTProvider(name: K.issuer, issuer: K.issuer, audiences: ["only-this"], keys: Self.keys)
        var again = Self.request(token, worker: w)
        #expect(Self.filter(strict).decodeHeaders(&again, now: .now, random: { _ in 0 }) == Self.refused(403, "Audiences in Jwt are not allowed"))
    }

    @Test func anAnyRequirementReportsTheMostTellingError() {
        // Two providers; the token is for neither's keys but names the first's issuer: the key error wins over
        // "missing" (second provider's locations are empty) and "unknown issuer".
        let a = JWTProvider(name: "a", issuer: K.issuer, keys: Self.keys)
        let b = JWTProvider(name: "b", issuer: "https://b.test", keys: Self.keys, locations: [.header(name: "x-b", prefix: "")])
        let settings = JWTAuthnSettings(providers: [a, b], rules: [JWTRequirementRule(match: RouteMatch(path: .prefix("/")), requirement:
            .any([.provider("a", audiences: nil), .provider("b", audiences: nil)], allowMissing: true, allowMissingOrFailed: false))],
                                        statPrefix: "http.in.")
        let f = JWTAuthnFilter(settings: settings)!
        var r = Self.request(K.mint(kid: "zzz"), worker: Self.worker())
        #expect(f.decodeHeaders(&r, now: .now, random: { _ in 0 }) == Self.refused(401, "Jwks doesn't have key to match kid or alg from Jwt"))
        var wrongIssuer = Self.request(nil, headers: [("x-b", K.mint())], worker: Self.worker())
        #expect(f.decodeHeaders(&wrongIssuer, now: .now, random: { _ in 0 }) == Self.refused(401, "Jwt issuer is not configured"))
    }

    @Test func aRequestNoRuleMatchesIsNotChecked() {
        let settings = JWTAuthnSettings(providers: [Self.provider()], rules: [JWTRequirementRule(match: RouteMatch(path: .prefix("/api")),
                                                                                                  requirement: .provider(K.issuer, audiences: nil))],
                                        statPrefix: "http.in.")
        var r = Self.request("garbage", worker: Self.worker())
        #expect(JWTAuthnFilter(settings: settings)!.decodeHeaders(&r, now: .now, random: { _ in 0 }) == .proceed)
    }

    @Test func theTokenCacheIsBoundedAndReplacesTheOldestFirst() throws {
        let cache = JWTTokenCache(capacity: 3)
        let jwt = try JWT(compact: K.mint())
        for i in 0..<5 { cache.insert("t\(i)", provider: "p", jwt) }
        #expect(cache.count == 3)
        #expect(cache.lookup("t0", provider: "p") == nil && cache.lookup("t1", provider: "p") == nil)
        #expect(cache.lookup("t2", provider: "p")?.jwt.subject == "alice")
        #expect(cache.lookup("t4", provider: "p") != nil)
        #expect(cache.lookup("t4", provider: "other") == nil, "a token is cached for the provider that verified it")
    }

    @Test func tokensAreFoundAfterThePrefixAsEnvoyExtractsThem() {
        let bearer = Array("Bearer ".utf8)
        #expect(JWTExtractor.token(in: "Bearer a.b.c", after: bearer) == "a.b.c")
        #expect(JWTExtractor.token(in: "x, Bearer  a.b-c_d, other", after: bearer) == "a.b-c_d", "the first base64url run after the prefix")
        #expect(JWTExtractor.token(in: "Basic abc", after: bearer) == nil)
        #expect(JWTExtractor.token(in: "Bearer !!!", after: bearer) == "Bearer !!!", "no token characters: the whole value")
        #expect(JWTExtractor.token(in: "tok.en", after: []) == "tok.en")
        #expect(JWTExtractor.token(in: "Bear", after: bearer) == nil)
    }

    @Test func eachConfigHasItsOwnCacheOnAWorker() {
        let w = WorkerFilterState()
        let a = NSObject(), b = NSObject()
        let ca = w.cache(for: a) { JWTTokenCache(capacity: 1) }
        #expect(w.cache(for: a) { JWTTokenCache(capacity: 1) } === ca)
        #expect(w.cache(for: b) { JWTTokenCache(capacity: 1) } !== ca)
    }
}
