import Crypto
import Foundation
import Testing
@testable import WeftCA

@Suite struct TokenTests {
    @Test func issuesVerifiesAndRefuses() throws {
        let a = TokenAuthority(key: SymmetricKey(size: .bits256))
        let t = try a.issue(.join(namespace: "shop", serviceAccount: "reviews", expiresAt: 1000))
        let c = try a.verify(t, now: 999)
        #expect(c.kind == .join && c.namespace == "shop" && c.serviceAccount == "reviews")
        #expect(throws: TokenAuthority.Refusal.expired(1000)) { try a.verify(t, now: 1000) }
        #expect(throws: TokenAuthority.Refusal.malformed) { try a.verify("weft.abc", now: 1) }
        // Another key, or a changed claim, does not verify.
        let other = TokenAuthority(key: SymmetricKey(size: .bits256))
        #expect(throws: TokenAuthority.Refusal.badSignature) { try other.verify(t, now: 1) }
        let parts = t.split(separator: ".")
        let admin = try a.issue(TokenClaims(kind: .admin, id: "x"))
        let spliced = "weft.\(admin.split(separator: ".")[1]).\(parts[2])"
        #expect(throws: TokenAuthority.Refusal.badSignature) { try a.verify(spliced, now: 1) }
    }

    @Test func keepsTheKeyAndAdminTokenAcrossStarts() throws {
        let dir = NSTemporaryDirectory() + "weft-tokens-\(UUID().uuidString)"
        let (a, admin) = try TokenAuthority.loadOrCreate(dir: dir)
        let (b, again) = try TokenAuthority.loadOrCreate(dir: dir)
        #expect(admin == again)
        let join = try a.issue(.join(namespace: "n", serviceAccount: "s", expiresAt: 10))
        #expect(try b.verify(join, now: 1).serviceAccount == "s")
        for f in ["token-key", "admin-token"] {
            let mode = try FileManager.default.attributesOfItem(atPath: dir + "/" + f)[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
    }
}
