import EnvoyAPI
import WeftModel
import XDSTranslation

/// The state-of-the-world ADS protocol for one stream, as a pure state machine: requests and new snapshots
/// go in, responses to send and status changes come out. No I/O, so it is tested with tables of events.
struct ADSStreamState {
    typealias Request = Envoy_Service_Discovery_V3_DiscoveryRequest
    typealias Response = Envoy_Service_Discovery_V3_DiscoveryResponse

    struct Subscription {
        /// nil means all resources of the type (wildcard).
        var names: Set<String>?
        var sentVersion: String?
        var sentNonce: String?
        var ackedVersion: String?
        /// The proxy has answered (ACK or NACK) the last response sent for this type.
        var answered = true
    }

    enum Event: Equatable {
        case connected(ProxyNode)
        case sent(type: String, version: String)
        case acked(type: String, version: String)
        case nacked(type: String, version: String, message: String)
        /// Every response computed from this mesh version has been answered: the proxy is in sync with it.
        case synced(meshVersion: Int)
    }

    /// Where this stream's resources come from: the server's shared cache, or a plain translation in tests.
    let source: @Sendable (MeshState, ProxyNode) -> ResourceSet
    var node: ProxyNode?
    var mesh: MeshState?
    var resources = ResourceSet()
    /// This stream's own secrets (its proxy's certificate and the root), kept across mesh changes.
    var secrets = ResourceSet()
    var subscriptions: [String: Subscription] = [:]
    var nonceCounter = 0
    var syncedVersion: Int?

    init(source: @escaping @Sendable (MeshState, ProxyNode) -> ResourceSet = { ResourceSet(Translator.translate(mesh: $0, proxy: $1)) }) {
        self.source = source
    }

    init(cache: XDSCache) {
        self.init(source: { cache.resources(mesh: $0, node: $1) })
    }

    mutating func onMesh(_ mesh: MeshState) -> ([Response], [Event]) {
        self.mesh = mesh
        guard let node else { return ([], []) }
        resources = withSecrets(source(mesh, node))
        var out: ([Response], [Event]) = ([], [])
        var clustersPushed = false
        for type in ResourceSet.pushOrder where subscriptions[type] != nil {
            // Envoy keeps an updated cluster warming until its endpoints arrive again, even unchanged: after a
            // CDS push, EDS is always sent too.
            let force = type == EnvoyTypeURL.clusterLoadAssignment && clustersPushed
            if let (r, e) = respond(type, force: force) {
                out.0.append(r)
                out.1.append(e)
                if type == EnvoyTypeURL.cluster { clustersPushed = true }
            }
        }
        out.1 += syncEvent()
        return out
    }

    func withSecrets(_ set: ResourceSet) -> ResourceSet {
        var set = set
        set.byType[EnvoyTypeURL.secret] = secrets.byType[EnvoyTypeURL.secret]
        return set
    }

    /// New secrets (first issue or a renewal): sent when the proxy has asked for secrets and they changed.
    mutating func onSecrets(_ issued: WorkloadSecrets) -> ([Response], [Event]) {
        secrets.add(EnvoyTypeURL.secret, issued.envoySecrets)
        resources.byType[EnvoyTypeURL.secret] = secrets.byType[EnvoyTypeURL.secret]
        guard mesh != nil, let (r, e) = respond(EnvoyTypeURL.secret, force: false) else { return ([], []) }
        return ([r], [e])
    }

    /// `.synced` once per mesh version, when no response computed from it waits for an answer.
    mutating func syncEvent() -> [Event] {
        guard let version = mesh?.version, node != nil, !subscriptions.isEmpty, version != syncedVersion,
              subscriptions.values.allSatisfy(\.answered) else { return [] }
        syncedVersion = version
        return [.synced(meshVersion: version)]
    }

    mutating func onRequest(_ req: Request) -> ([Response], [Event]) {
        var events: [Event] = []
        if node == nil {
            let n = NodeDecoder.decode(req.node)
            node = n
            events.append(.connected(n))
            if let mesh { resources = withSecrets(source(mesh, n)) }
        }
        let type = req.typeURL
        var sub = subscriptions[type] ?? Subscription()
        let isFirst = subscriptions[type] == nil || req.responseNonce.isEmpty
        if !req.responseNonce.isEmpty && req.responseNonce != sub.sentNonce {
            return ([], events)  // a reply to an older response; the newer one is still on its way
        }
        let names: Set<String>? = ResourceSet.wildcardTypes.contains(type) && req.resourceNames.isEmpty ? nil : Set(req.resourceNames)
        let namesChanged = names != sub.names
        sub.names = names
        if req.hasErrorDetail {
            events.append(.nacked(type: type, version: sub.sentVersion ?? "", message: req.errorDetail.message))
            if !req.responseNonce.isEmpty { sub.answered = true }
            subscriptions[type] = sub
            // Do not resend what was refused; the next change or a new subscription sends again.
            guard namesChanged else { return ([], events + syncEvent()) }
        } else if !req.responseNonce.isEmpty {
            sub.ackedVersion = req.versionInfo
            sub.answered = true
            events.append(.acked(type: type, version: req.versionInfo))
        }
        subscriptions[type] = sub
        guard mesh != nil else { return ([], events) }
        if let (r, e) = respond(type, force: isFirst || namesChanged) {
            events.append(e)
            return ([r], events)
        }
        return ([], events + syncEvent())
    }

    /// A response for `type` when its content differs from what was last sent (or when forced).
    mutating func respond(_ type: String, force: Bool) -> (Response, Event)? {
        guard var sub = subscriptions[type] else { return nil }
        let (items, version) = resources.select(type, names: sub.names)
        guard force || version != sub.sentVersion else { return nil }
        nonceCounter += 1
        var r = Response()
        r.typeURL = type
        r.versionInfo = version
        r.resources = items
        r.nonce = String(nonceCounter)
        var cp = Envoy_Config_Core_V3_ControlPlane()
        cp.identifier = "weft"
        r.controlPlane = cp
        sub.sentVersion = version
        sub.sentNonce = r.nonce
        sub.answered = false
        subscriptions[type] = sub
        return (r, .sent(type: type, version: version))
    }
}
