import Logging
import WeftMesh

/// Sends the embedded control plane's log lines to the mesh's printer, as `control | level: message key=value`.
struct PrinterLogHandler: LogHandler {
    let printer: LogPrinter
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let tail = all.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        printer.line("control", "\(event.level): \(event.message)\(tail)")
    }

    static func logger(_ printer: LogPrinter) -> Logger {
        Logger(label: "weft.control") { _ in PrinterLogHandler(printer: printer) }
    }
}
