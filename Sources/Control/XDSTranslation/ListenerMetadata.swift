import EnvoyAPI
import SwiftProtobuf
import WeftCore
import WeftModel

/// What weft proxy reads from a listener's `weft` metadata (Envoy ignores it): limits with no Envoy field, and the
/// proxy's own workload labels for the standard metrics.
enum ListenerMetadata {
    static func weft(_ limits: ListenerLimits, peer: PeerMetadata) -> Envoy_Config_Core_V3_Metadata {
        var fields = Google_Protobuf_Struct()
        fields.fields[WeftListenerMetadata.peer] = Google_Protobuf_Value(stringValue: peer.headerValue)
        fields.fields[WeftListenerMetadata.prematureResetsPerSecond] = Google_Protobuf_Value(numberValue: Double(limits.prematureResetsPerSecond))
        var m = Envoy_Config_Core_V3_Metadata()
        m.filterMetadata[WeftListenerMetadata.key] = fields
        return m
    }
}
