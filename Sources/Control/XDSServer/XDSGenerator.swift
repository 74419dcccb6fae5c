import WeftModel
import XDSTranslation

/// Makes one proxy's xDS resources from a MeshState. The server takes it as an injected value, so tests (and
/// later generators: secrets, delta, scoped config) plug in without touching the stream code.
///
/// `scope(of:)` names everything the generator reads of a proxy; `generate` is only ever given that scope, so
/// it cannot read anything else, and two proxies with equal scopes get the same resources. That is what makes
/// caching by (mesh version, scope) safe.
public protocol XDSGenerator: Sendable {
    func scope(of node: ProxyNode) -> ProxyNode
    func generate(mesh: MeshState, scope: ProxyNode) -> ProxyResources
}

/// The translation to Envoy's resources (XDSTranslation). It reads a proxy's namespace, labels, listeners and
/// locality; not its id or host addresses, so every replica of one workload shape shares one translation.
public struct TranslatorGenerator: XDSGenerator {
    public init() {}

    public func scope(of node: ProxyNode) -> ProxyNode {
        var s = ProxyNode(id: "", namespace: node.namespace, labels: node.labels, outbound: node.outbound, inbound: node.inbound)
        s.locality = node.locality
        // What the proxy accepts changes what it is sent (an older weft proxy gets no connection limit).
        s.userAgent = node.userAgent
        s.clientFeatures = node.clientFeatures
        // The service account names the proxy's principal in its metrics metadata (replicas share it).
        s.serviceAccount = node.serviceAccount
        return s
    }

    public func generate(mesh: MeshState, scope: ProxyNode) -> ProxyResources {
        Translator.translate(mesh: mesh, proxy: scope)
    }
}
