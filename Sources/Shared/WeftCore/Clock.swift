import Foundation

/// Wall-clock time as seconds since 1970, injected so that expiry logic is tested without sleeping.
public protocol WallClock: Sendable {
    func now() -> Double
}

/// The real clock; only the executable and long-running assemblies create it.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Double { Date().timeIntervalSince1970 }
}
