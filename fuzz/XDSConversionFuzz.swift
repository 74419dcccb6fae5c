// libFuzzer target: any bytes as one xDS resource of any type, through weft proxy's conversion and snapshot
import Foundation
// assembly (the code that turns what a control plane sends into a ProxySnapshot). A refusal (NACK) is a normal
// outcome; nothing may crash. The first byte picks the type, the rest is the resource's protobuf encoding.
import EnvoyAPI
import SwiftProtobuf

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXDSConversion(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let types = [EnvoyTypeURL.cluster, EnvoyTypeURL.clusterLoadAssignment, EnvoyTypeURL.listener, EnvoyTypeURL.routeConfiguration]
    let typeURL = types[Int(data[0]) % types.count]
    var any = Google_Protobuf_Any()
    any.typeURL = typeURL
    any.value = Data(UnsafeBufferPointer(start: data + 1, count: size - 1))
    var assembler = SnapshotAssembler()
    if (try? assembler.apply(typeURL: typeURL, version: "1", resources: [any])) != nil {
        _ = assembler.snapshot()
    }
    return 0
}
