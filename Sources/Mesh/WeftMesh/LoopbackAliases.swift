import Foundation

/// Adds IPv6 addresses to `lo` for the mesh (`ip -6 addr add ADDR/128 dev lo nodad`) and removes them on stop.
/// Needs root (or CAP_NET_ADMIN) and iproute2; when either is missing, `add` returns false and the mesh
/// falls back to ::1 with distinct ports.
public enum LoopbackAliases {
    public static func add(_ addresses: [String]) async -> Bool {
        for a in addresses {
            _ = await ip(["-6", "addr", "del", "\(a)/128", "dev", "lo"])  // a leftover of a killed run
            guard await ip(["-6", "addr", "add", "\(a)/128", "dev", "lo", "nodad"]) else {
                await remove(addresses)
                return false
            }
        }
        return true
    }

    public static func remove(_ addresses: [String]) async {
        for a in addresses { _ = await ip(["-6", "addr", "del", "\(a)/128", "dev", "lo"]) }
    }

    static func ip(_ args: [String]) async -> Bool {
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(null) }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        guard let child = try? ChildProcess.spawn(Launch(argv: ["ip"] + args, environment: ["PATH": path + ":/usr/sbin:/sbin"]), outputFD: null)
        else { return false }
        return await child.wait() == .exited(0)
    }
}
