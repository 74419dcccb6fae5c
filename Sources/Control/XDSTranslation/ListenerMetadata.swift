import EnvoyAPI
import SwiftProtobuf
import WeftConfig
import WeftCore
import WeftModel

/// What weft proxy reads from a listener's `weft` metadata (Envoy ignores it): limits with no Envoy field, and the
/// proxy's own workload labels for the standard metrics.
enum ListenerMetadata {
    static func weft(_ limits: ListenerLimits, peer: PeerMetadata, overrides: [Telemetry.MetricsOverride] = []) -> Envoy_Config_Core_V3_Metadata {
        var fields = Google_Protobuf_Struct()
        if !overrides.isEmpty {
            fields.fields[WeftListenerMetadata.metrics] = Google_Protobuf_Value(listValue: Google_Protobuf_ListValue(values: overrides.map { o in
                var s = Google_Protobuf_Struct()
                s.fields["metric"] = Google_Protobuf_Value(stringValue: o.metric.rawValue)
                if let d = o.disabled { s.fields["disabled"] = Google_Protobuf_Value(boolValue: d) }
                s.fields["remove"] = Google_Protobuf_Value(listValue: Google_Protobuf_ListValue(values: o.removeTags.map { Google_Protobuf_Value(stringValue: $0) }))
                var up = Google_Protobuf_Struct()
                for (k, v) in o.upsertTags { if let lit = StandardLabelNames.literal(v) { up.fields[k] = Google_Protobuf_Value(stringValue: lit) } }
                s.fields["upsert"] = Google_Protobuf_Value(structValue: up)
                return Google_Protobuf_Value(structValue: s)
            }))
        }
        fields.fields[WeftListenerMetadata.peer] = Google_Protobuf_Value(stringValue: peer.headerValue)
        fields.fields[WeftListenerMetadata.prematureResetsPerSecond] = Google_Protobuf_Value(numberValue: Double(limits.prematureResetsPerSecond))
        var m = Envoy_Config_Core_V3_Metadata()
        m.filterMetadata[WeftListenerMetadata.key] = fields
        return m
    }
}
