/// xoshiro256** (Blackman and Vigna): a small, fast generator for trace ids, seeded once from the system's.
struct Xoshiro256: RandomNumberGenerator {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    init() {
        var g = SystemRandomNumberGenerator()
        s = (g.next(), g.next(), g.next(), g.next())
        if s.0 | s.1 | s.2 | s.3 == 0 { s.0 = 1 }
    }

    init(seed: (UInt64, UInt64, UInt64, UInt64)) {
        s = seed
        if s.0 | s.1 | s.2 | s.3 == 0 { s.0 = 1 }
    }

    mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
