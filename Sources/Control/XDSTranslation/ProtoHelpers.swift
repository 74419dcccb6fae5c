import EnvoyAPI
import SwiftProtobuf
import WeftCore
import WeftModel

enum Proto {
    static func address(_ host: String, _ port: Int) -> Envoy_Config_Core_V3_Address {
        var sa = Envoy_Config_Core_V3_SocketAddress()
        sa.address = host
        sa.portValue = UInt32(port)
        var a = Envoy_Config_Core_V3_Address()
        a.socketAddress = sa
        return a
    }

    static func address(_ hp: HostPort) -> Envoy_Config_Core_V3_Address { address(hp.host, hp.port) }

    static func duration(nanos: Int64) -> Google_Protobuf_Duration {
        var d = Google_Protobuf_Duration()
        d.seconds = nanos / 1_000_000_000
        d.nanos = Int32(nanos % 1_000_000_000)
        return d
    }

    static func seconds(_ s: Int64) -> Google_Protobuf_Duration { duration(nanos: s * 1_000_000_000) }

    static func any(_ m: any SwiftProtobuf.Message) -> Google_Protobuf_Any {
        // Packing a generated message cannot fail.
        try! Google_Protobuf_Any(message: m)
    }

    static func u32(_ v: Int) -> Google_Protobuf_UInt32Value { Google_Protobuf_UInt32Value(UInt32(clamping: v)) }

    static func percent(_ v: Double) -> Envoy_Type_V3_Percent {
        var p = Envoy_Type_V3_Percent()
        p.value = v
        return p
    }

    /// A percentage as a fraction of a million, so 0.1% steps survive.
    static func fraction(_ percent: Double) -> Envoy_Type_V3_FractionalPercent {
        var f = Envoy_Type_V3_FractionalPercent()
        f.numerator = UInt32((percent * 10_000).rounded())
        f.denominator = .million
        return f
    }

    static func runtimeFraction(_ percent: Double) -> Envoy_Config_Core_V3_RuntimeFractionalPercent {
        var r = Envoy_Config_Core_V3_RuntimeFractionalPercent()
        r.defaultValue = fraction(percent)
        return r
    }

    static func adsSource() -> Envoy_Config_Core_V3_ConfigSource {
        var c = Envoy_Config_Core_V3_ConfigSource()
        c.ads = Envoy_Config_Core_V3_AggregatedConfigSource()
        c.resourceApiVersion = .v3
        return c
    }

    static func stringMatcher(exact: String) -> Envoy_Type_Matcher_V3_StringMatcher {
        var m = Envoy_Type_Matcher_V3_StringMatcher()
        m.exact = exact
        return m
    }

    static func regex(_ pattern: String) -> Envoy_Type_Matcher_V3_RegexMatcher {
        var r = Envoy_Type_Matcher_V3_RegexMatcher()
        r.regex = pattern
        return r
    }

    static func headerOptions(_ values: [String: String], overwrite: Bool) -> [Envoy_Config_Core_V3_HeaderValueOption] {
        values.keys.sorted().map { k in
            var hv = Envoy_Config_Core_V3_HeaderValue()
            hv.key = k
            hv.value = values[k]!
            var o = Envoy_Config_Core_V3_HeaderValueOption()
            o.header = hv
            o.appendAction = overwrite ? .overwriteIfExistsOrAdd : .appendIfExistsOrAdd
            return o
        }
    }

    static func typedFilter(_ name: String, _ config: any SwiftProtobuf.Message) -> Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter {
        var f = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
        f.name = name
        f.typedConfig = any(config)
        return f
    }

    static func networkFilter(_ name: String, _ config: any SwiftProtobuf.Message) -> Envoy_Config_Listener_V3_Filter {
        var f = Envoy_Config_Listener_V3_Filter()
        f.name = name
        f.typedConfig = any(config)
        return f
    }

    static func listenerFilter(_ name: String, _ config: any SwiftProtobuf.Message) -> Envoy_Config_Listener_V3_ListenerFilter {
        var f = Envoy_Config_Listener_V3_ListenerFilter()
        f.name = name
        f.typedConfig = any(config)
        return f
    }
}

typealias FilterName = EnvoyFilterName

/// Istio's cluster naming: `outbound|PORT|SUBSET|HOST` and `inbound|PORT||`.
public enum ClusterName {
    public static func outbound(host: String, port: Int, subset: String? = nil) -> String {
        "outbound|\(port)|\(subset ?? "")|\(host)"
    }

    public static func inbound(port: Int) -> String { "inbound|\(port)||" }
}
