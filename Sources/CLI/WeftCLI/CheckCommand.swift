import ArgumentParser
import EnvoyAPI
import Foundation
import ProxyConfig
import ProxyRouting
import WeftConfig
import WeftCore
import WeftModel
import XDSClient
import XDSTranslation
import WeftHTTPClient

/// `weft check`: answers "what would the mesh do with this call" from the config in effect, without sending it.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Ask what the mesh would decide for a call, from the config in effect.",
        subcommands: [CheckAuthzCommand.self])
}

/// `weft check authz`: the authorization decision (JWT, AUDIT, DENY, ALLOW) for one request to a service's
/// workloads, made by weft proxy's own engine over the config weft control would send the workload's sidecar;
/// prints the policy and rule that decided.
struct CheckAuthzCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authz", abstract: "Print the authorization decision for a request, and the policy and rule that made it.")
    @Option(help: "The caller's identity, NAMESPACE/SERVICE-ACCOUNT (leave out for a plaintext caller without one).") var from: String?
    @Option(help: "The service called: NAME.NAMESPACE or its full host.") var to: String
    @Option(help: "The request path (with query, if any).") var path: String = "/"
    @Option(help: "The request method.") var method: String = "GET"
    @Option(help: "The service port (default: the service's first port).") var port: Int?
    @Option(help: "A request header, NAME:VALUE (repeatable).") var header: [String] = []
    @Option(help: "A file holding a JWT, sent as Authorization: Bearer.") var jwt: String?
    @Option(help: "The caller's IP address.") var sourceIp: String = "10.0.0.1"
    @OptionGroup var server: ServerOption

    func run() async throws {
        let client = try server.client()
        let status = try await client.call("GET", "/api/v1/status")
        guard status.status == 200 else { throw CLIError(status.text) }
        let listed = try await client.call("GET", "/api/v1/resources")
        guard listed.status == 200 else { throw CLIError(listed.text) }
        var mesh = try Self.mesh(listed.json, status: status.json)
        // Keys by URL, fetched here as weft control fetches them (http; an https URI's keys are not checked here).
        for uri in mesh.access.jwksURIs where uri.hasPrefix("http://") {
            if let r = try? await HTTPClient.get(uri, timeout: .seconds(5)), r.status == 200 { mesh.access.fetchedJWKS[uri] = r.body }
        }
        let host = to.split(separator: ".").count == 2 ? "\(to).svc.cluster.local" : to
        guard let service = mesh.services[host] else { throw CLIError("no service \(host) in the mesh") }
        guard let servicePort = port.map({ p in service.ports.first { $0.number == p } }) ?? service.ports.first else {
            throw CLIError("service \(host) has no port \(port.map(String.init) ?? "")")
        }
        let endpoints = service.endpoints[servicePort.number] ?? []
        guard !endpoints.isEmpty else { throw CLIError("service \(host) has no workloads on port \(servicePort.number)") }
        var token: String?
        if let jwt {
            guard let text = try? String(contentsOfFile: jwt, encoding: .utf8) else { throw CLIError("--jwt: cannot read '\(jwt)'") }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let caller = try from.map(Self.identity).map { SpiffeID(trustDomain: mesh.mutualTLS.trustDomain, namespace: $0.0, serviceAccount: $0.1) }
        print("\(method) \(host):\(servicePort.number)\(path) from \(caller?.uri ?? "a plaintext caller (no identity)")")
        var seen = Set<String>()
        for e in endpoints {
            let ns = e.identity?.namespace ?? service.namespace
            let key = "\(ns)|\(e.labels.sorted { $0.key < $1.key })"
            guard seen.insert(key).inserted else { continue }
            let labels = e.labels.filter { $0.key != MutualTLSPolicies.tlsModeLabel }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            print("workload \(ns) {\(labels.joined(separator: ","))} at \(e.address):\(e.port)")
            for line in try decide(mesh, namespace: ns, labels: e.labels, endpoint: e, caller: caller, token: token) { print("  " + line) }
        }
    }

    static func identity(_ text: String) throws -> (String, String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2 else { throw CLIError("--from: write NAMESPACE/SERVICE-ACCOUNT, got '\(text)'") }
        return (String(parts[0]), String(parts[1]))
    }

    /// The mesh as weft control holds it, rebuilt from its resources (registered workloads are not included).
    static func mesh(_ listed: JSONValue, status: JSONValue) throws -> MeshState {
        var resources: [Resource] = []
        for r in listed["resources"]?.arrayValue ?? [] {
            guard let doc = r["document"] else { continue }
            resources += try ResourceDecoder.decode(text: doc.serialized(), file: r["source"]?.stringValue ?? "api")
        }
        var mesh = MeshState(version: 0, resources: resources, workloads: [])
        if let td = status["trustDomain"]?.stringValue { mesh.mutualTLS.trustDomain = td }
        if let root = status["rootNamespace"]?.stringValue { mesh.access.rootNamespace = root }
        return mesh
    }

    /// Runs the workload's inbound filters (as weft proxy compiles them) on the request; one line per step.
    func decide(_ mesh: MeshState, namespace: String, labels: [String: String], endpoint: Endpoint, caller: SpiffeID?,
                token: String?) throws -> [String] {
        let listen = HostPort(host: endpoint.address, port: endpoint.port)
        var node = ProxyNode(id: "weft-check", namespace: namespace, labels: labels,
                             inbound: [.init(listen: listen, app: HostPort(host: "127.0.0.1", port: endpoint.port))])
        node.userAgent = WeftClientFeature.userAgent
        node.clientFeatures = Set(WeftClientFeature.all)
        guard let listener = Translator.translate(mesh: mesh, proxy: node).listeners.first(where: { $0.name.hasPrefix("inbound|") }) else {
            return ["no inbound listener"]
        }
        let converted = try XDSConversion.listener(listener)
        guard let table = converted.inlineRoutes else { return ["a TCP port: only connection rules apply"] }
        var headers = HeaderList([("host", listen.description)])
        for h in header {
            guard let colon = h.firstIndex(of: ":") else { throw CLIError("--header: write NAME:VALUE, got '\(h)'") }
            headers.add(name: h[..<colon].lowercased().trimmingCharacters(in: .whitespaces), value: h[h.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        if let token { headers.add(name: "authorization", value: "Bearer \(token)") }
        let facts = ConnectionFacts(peerAddress: CIDRText.address(sourceIp), localAddress: CIDRText.address(endpoint.address), localPort: endpoint.port,
                                    peer: caller.map { PeerCertificateFacts(uriSANs: [$0.uri]) })
        var request = FilterRequest(method: method.uppercased(), headers: headers, uri: path, connection: facts)
        var lines: [String] = []
        for filter in table.filters {
            if let rbac = filter as? RBACFilter {
                for instance in rbac.settings.instances {
                    if let shadow = instance.shadowRules { lines.append("dry-run " + Self.step(shadow, request)) }
                    if let rules = instance.rules {
                        let d = rules.evaluate(request)
                        lines.append(Self.step(rules, request))
                        if !d.allowed { return lines + ["DENIED: 403 RBAC: access denied"] }
                    }
                }
            } else if type(of: filter).name == EnvoyFilterName.jwtAuthn {
                switch filter.decodeHeaders(&request, now: .now, random: { _ in 0 }) {
                case let .reply(r): return lines + ["JWT: \(r.status) \(r.body)", "DENIED"]
                default:
                    let iss = request.metadata.value(filter: JWTMetadata.filter, path: [JWTMetadata.payloadKey, "iss"])?.stringValue
                    lines.append(token == nil ? "JWT: no token (passes authentication)" : "JWT: verified" + (iss.map { ", issuer \($0)" } ?? ""))
                }
            }
        }
        return lines + ["ALLOWED"]
    }

    /// One set of rules' verdict with the policy that made it.
    static func step(_ rules: RBACRules, _ request: FilterRequest) -> String {
        let d = rules.evaluate(request)
        let name = d.matched.map { rules.policies[$0].name }
        switch rules.action {
        case .log: return "AUDIT: " + (name.map { "matched \($0) (logged)" } ?? "no policy matched")
        case .deny: return "DENY policies: " + (name.map { "matched \($0)" } ?? "none matched")
        case .allow: return "ALLOW policies: " + (name.map { "matched \($0)" } ?? "none matched, so denied")
        }
    }
}
