// libFuzzer target: any bytes as a config file, through the YAML/JSON loader, the decoder and every validator.
// Nothing may crash, hang or grow without bound; a refusal is a normal outcome. Built by scripts/fuzz.sh.
import WeftConfig
import WeftCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let resources = try? ResourceDecoder.decode(text: text, file: "fuzz.yaml") {
        _ = ConfigSetValidator.validate(resources)
    }
    return 0
}
