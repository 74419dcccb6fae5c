import EnvoyAPI
import SwiftProtobuf
import WeftModel

/// What weft proxy reads from a listener's `weft` metadata (Envoy ignores it): limits with no Envoy field.
enum ListenerMetadata {
    static func weft(_ limits: ListenerLimits) -> Envoy_Config_Core_V3_Metadata {
        var fields = Google_Protobuf_Struct()
        fields.fields[WeftListenerMetadata.prematureResetsPerSecond] = Google_Protobuf_Value(numberValue: Double(limits.prematureResetsPerSecond))
        var m = Envoy_Config_Core_V3_Metadata()
        m.filterMetadata[WeftListenerMetadata.key] = fields
        return m
    }
}
