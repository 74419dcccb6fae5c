import WeftConfig
import WeftCore

/// Checks across `services:` entries once each entry decoded: names, ports, replicas, duplicates.
enum MeshValidation {
    static let maxWorkloads = 200
    static let sidecarPorts: Set<Int> = [15000, 15001]

    static func check(_ services: [ServiceSpec], ctx: DecodeContext) {
        var firstOf: [String: (index: Int, port: Int, protocol: String)] = [:]
        var deployments: [String: Int] = [:]
        var total = 0
        for (i, s) in services.enumerated() {
            let path = "services[\(i)]"
            if !s.name.isEmpty && !isServiceName(s.name) {
                ctx.error("\(path).name", "'\(s.name)' must be lower-case letters, digits and '-', starting with a letter")
            }
            if let v = s.version, !isLabelValue(v) {
                ctx.error("\(path).version", "'\(v)' must be lower-case letters, digits, '-' and '.'")
            }
            if let problem = PortNumber.problem(s.port) { ctx.error("\(path).port", problem) }
            if let problem = PortNumber.problem(s.targetPort) { ctx.error("\(path).targetPort", problem) }
            if s.targetPort == s.port { ctx.error("\(path).targetPort", "must differ from port \(s.port) (the sidecar listens on port)") }
            if MeshValidation.sidecarPorts.contains(s.port) {
                ctx.error("\(path).port", "\(s.port) is taken by the sidecar (outbound 15001, admin 15000)")
            }
            if s.replicas < 1 { ctx.error("\(path).replicas", "must be at least 1") }
            total += max(0, s.replicas)
            if let first = firstOf[s.name] {
                if first.port != s.port {
                    ctx.error("\(path).port", "service \(s.name) already has port \(first.port) in services[\(first.index)]")
                }
                if first.protocol != s.protocol {
                    ctx.error("\(path).protocol", "service \(s.name) already has protocol \(first.protocol) in services[\(first.index)]")
                }
            } else {
                firstOf[s.name] = (i, s.port, s.protocol)
            }
            if let dup = deployments[s.deploymentName] {
                ctx.error(path, "duplicates services[\(dup)] (\(s.deploymentName)); give each entry of a service its own version")
            } else {
                deployments[s.deploymentName] = i
            }
        }
        if total > maxWorkloads { ctx.error("services", "\(total) workloads in all; at most \(maxWorkloads) fit on one machine's loopback plan") }
    }

    static func isLabelValue(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 63 && s.allSatisfy { ($0.isLetter && $0.isLowercase) || $0.isNumber || $0 == "-" || $0 == "." }
    }

    /// A DNS label: what a host name part and a workload name can hold.
    static func isServiceName(_ s: String) -> Bool {
        guard let first = s.first, first.isLetter, first.isLowercase, s.count <= 50 else { return false }
        return s.allSatisfy { ($0.isLetter && $0.isLowercase) || $0.isNumber || $0 == "-" } && !s.hasSuffix("-")
    }
}
