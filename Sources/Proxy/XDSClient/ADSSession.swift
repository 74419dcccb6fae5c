import EnvoyAPI
import ProxyConfig
import ProxyRouting
import SwiftProtobuf

/// The client side of state-of-the-world ADS as a pure state machine: responses go in, the requests to send
/// (ACK, NACK, new EDS/RDS subscriptions) and the new snapshot come out. It outlives a stream, so after a
/// reconnect the proxy asks again with the versions it already has and keeps its last good config meanwhile.
struct ADSSession: Sendable {
    typealias Request = Envoy_Service_Discovery_V3_DiscoveryRequest
    typealias Response = Envoy_Service_Discovery_V3_DiscoveryResponse

    let node: Envoy_Config_Core_V3_Node
    var assembler = SnapshotAssembler()
    /// Per stream: the last response nonce and the names requested, by type URL.
    var nonces: [String: String] = [:]
    var subscribed: [String: [String]] = [:]
    var nodeSent = false

    /// What one response led to.
    struct Outcome: Sendable {
        var requests: [Request] = []
        /// The new snapshot when the response was accepted.
        var snapshot: ProxySnapshot?
        /// The NACK text when it was refused.
        var refusal: String?
    }

    init(node: Envoy_Config_Core_V3_Node) {
        self.node = node
    }

    /// The opening requests of a new stream: CDS and LDS as wildcards, then EDS and RDS for names already known.
    mutating func start() -> [Request] {
        nonces = [:]
        subscribed = [:]
        nodeSent = false
        var out = [request(EnvoyTypeURL.cluster, names: [])]
        if !assembler.edsNames.isEmpty { out.append(request(EnvoyTypeURL.clusterLoadAssignment, names: assembler.edsNames)) }
        out.append(request(EnvoyTypeURL.listener, names: []))
        if !assembler.routeNames.isEmpty { out.append(request(EnvoyTypeURL.routeConfiguration, names: assembler.routeNames)) }
        return out
    }

    mutating func receive(_ r: Response) -> Outcome {
        let type = r.typeURL
        nonces[type] = r.nonce
        var out = Outcome()
        do {
            try assembler.apply(typeURL: type, version: r.versionInfo, resources: r.resources)
        } catch {
            let text = error.description
            var nack = request(type, names: subscribed[type] ?? [])
            var status = Google_Rpc_Status()
            status.code = 13  // INTERNAL, as Envoy sends
            status.message = text
            nack.errorDetail = status
            out.requests = [nack]
            out.refusal = text
            return out
        }
        out.requests = [request(type, names: subscribed[type] ?? [])]
        // New EDS clusters or RDS names: follow the references (after the ACK, as Envoy does).
        if type == EnvoyTypeURL.cluster { follow(EnvoyTypeURL.clusterLoadAssignment, assembler.edsNames, into: &out.requests) }
        if type == EnvoyTypeURL.listener { follow(EnvoyTypeURL.routeConfiguration, assembler.routeNames, into: &out.requests) }
        out.snapshot = assembler.snapshot()
        return out
    }

    mutating func follow(_ type: String, _ names: [String], into requests: inout [Request]) {
        guard names != (subscribed[type] ?? []) else { return }
        requests.append(request(type, names: names))
    }

    /// A request for `type` carrying the accepted version and the stream's last nonce of that type.
    mutating func request(_ type: String, names: [String]) -> Request {
        var r = Request()
        if !nodeSent {
            r.node = node
            nodeSent = true
        }
        r.typeURL = type
        r.resourceNames = names
        r.versionInfo = assembler.versions[type] ?? ""
        r.responseNonce = nonces[type] ?? ""
        subscribed[type] = names
        return r
    }
}
