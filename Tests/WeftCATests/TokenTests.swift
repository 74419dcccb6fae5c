import Crypto
import Foundation
import Testing
@testable import WeftCA
import WeftCore

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

@Suite struct SHA256DigestTests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func matchesTheStandardVectors(input: String, hex: String) {
        #expect(SHA256Digest.hex(Array(input.utf8)) == hex)
    }

    @Test func matchesSwiftCryptoOnLongInputs() {
        for n in [55, 56, 63, 64, 65, 1000, 4097] {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            #expect(SHA256Digest.hash(bytes) == Array(SHA256.hash(data: bytes)))
        }
    }
}
