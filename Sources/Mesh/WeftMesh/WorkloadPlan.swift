import WeftCore

/// One workload as it will run: its addresses, the services it carries, and where its app and sidecar listen.
/// Both `weft up` (one per replica) and `weft run` (one) build these; everything else is derived here.
public struct WorkloadPlan: Sendable, Equatable {
    public struct Carried: Sendable, Equatable {
        /// Service name (`reviews`) and the port callers use.
        public var name: String
        public var port: Int
        /// The sidecar's inbound port for this service (the service port, unless addresses are shared).
        public var inboundPort: Int
        public var `protocol`: String

        public init(name: String, port: Int, inboundPort: Int, protocol: String) {
            self.name = name
            self.port = port
            self.inboundPort = inboundPort
            self.protocol = `protocol`
        }
    }

    public var name: String
    public var namespace: String
    public var labels: [String: String]
    /// Every address of the workload; the first is where the app, outbound and admin listen.
    public var addresses: [String]
    public var services: [Carried]
    public var appPort: Int
    public var outbound: HostPort
    public var admin: HostPort
    public var command: LaunchCommand
    public var env: [String: String]
    /// The WorkloadGroup it registers as (Istio's auto-registration): the control plane builds the workload from the
    /// group's template, and the services that select its labels reach it; `services` are then the template's ports.
    public var group: String?
    /// The service account the workload runs as: its SPIFFE identity `ns/<namespace>/sa/<this>` (default: the first
    /// service's name, so every local service has its own identity).
    public var serviceAccount: String

    public init(name: String, namespace: String, labels: [String: String], addresses: [String], services: [Carried], appPort: Int,
                outbound: HostPort, admin: HostPort, command: LaunchCommand, env: [String: String] = [:]) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.addresses = addresses
        self.services = services
        self.appPort = appPort
        self.outbound = outbound
        self.admin = admin
        self.command = command
        self.env = env
        self.serviceAccount = services.first?.name ?? name
    }

    public var address: String { addresses[0] }
    public var app: HostPort { HostPort(host: address, port: appPort) }
    public var nodeID: String { "\(name).\(namespace)" }

    /// The `weft proxy` arguments of this workload's sidecar.
    public func sidecarArguments(controlPlane: HostPort) -> [String] {
        var args = ["proxy", "--node", nodeID, "--namespace", namespace,
                    "--labels", labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
                    "--service-account", serviceAccount,
                    "--control-plane", controlPlane.description, "--outbound", outbound.description,
                    "--admin", admin.description, "--concurrency", "1", "--drain-seconds", "1"]
        var seen: Set<HostPort> = []
        for s in services {
            for a in addresses where seen.insert(HostPort(host: a, port: s.inboundPort)).inserted {
                args += ["--inbound", "\(HostPort(host: a, port: s.inboundPort))=\(app)=\(s.protocol)"]
            }
        }
        return args
    }

    /// The app's environment on top of the inherited one: how it finds its port and its sidecar.
    public func appEnvironment() -> [String: String] {
        let proxy = "http://\(outbound)"
        var e: [String: String] = [
            "PORT": String(appPort), "WEFT_LISTEN": app.description, "WEFT_HOST": address,
            "WEFT_SERVICE": services.map(\.name).joined(separator: ","), "WEFT_WORKLOAD": name, "WEFT_NAMESPACE": namespace,
            "WEFT_OUTBOUND": outbound.description, "HTTP_PROXY": proxy, "http_proxy": proxy,
        ]
        if let v = labels["version"] { e["WEFT_VERSION"] = v }
        e.merge(env) { _, mine in mine }
        return e
    }

    /// The workload's labels plus `security.istio.io/tlsMode: istio` (it runs behind a weft sidecar).
    public var registeredLabels: [String: String] {
        labels.merging(["security.istio.io/tlsMode": "istio"]) { own, _ in own }
    }

    /// The registration body of docs/registration-api.md: the endpoint of each service is the sidecar's inbound port.
    public func registration(ttlSeconds: Double?) -> JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("name", .string(name)), ("namespace", .string(namespace)),
            ("addresses", .array(addresses.map(JSONValue.string))),
            // Its sidecar takes mesh mTLS (Istio's label for that), so callers' sidecars use it.
            ("labels", .object(registeredLabels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("serviceAccount", .string(serviceAccount)),
        ]
        if let group {
            pairs.append(("group", .string(group)))
        } else {
            pairs.append(("services", .array(services.map { s in
                .object([("name", .string(s.name)), ("port", .number(Double(s.port))),
                         ("targetPort", .number(Double(s.inboundPort))), ("protocol", .string(s.protocol.uppercased()))])
            })))
        }
        if let ttlSeconds { pairs.append(("ttlSeconds", .number(ttlSeconds))) }
        return .object(pairs)
    }
}
