/// FNV-1a, 64 bit: a stable hash for config versions and consistent hashing (Swift's Hasher is seeded per
/// process, so it cannot be used for values that must agree across processes or runs).
public enum FNV1a {
    public static let offset: UInt64 = 0xcbf2_9ce4_8422_2325
    public static let prime: UInt64 = 0x100_0000_01b3

    @inlinable
    public static func mix<S: Sequence>(_ h: UInt64, _ bytes: S) -> UInt64 where S.Element == UInt8 {
        var h = h
        for b in bytes { h = (h ^ UInt64(b)) &* prime }
        return h
    }

    @inlinable
    public static func mix(_ h: UInt64, _ text: String) -> UInt64 { mix(h, text.utf8) }

    @inlinable
    public static func hash<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 { mix(offset, bytes) }
}
