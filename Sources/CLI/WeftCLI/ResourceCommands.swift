import ArgumentParser
import Foundation
import WeftConfig
import WeftCore

struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Apply Istio YAML/JSON: all of it, or nothing.")

    @Option(name: .shortAndLong, help: "A file or a folder of .yaml/.yml/.json files.") var filename: String
    @OptionGroup var server: ServerOption

    func run() async throws {
        let client = try server.client()
        var failed = false
        for file in try inputFiles(filename) {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            let reply = try await client.call("POST", "/api/v1/apply", body: text, headers: ["X-Weft-Source": file])
            if reply.status == 200, case let .array(items)? = reply.json["applied"] {
                for i in items {
                    print("applied \(i["kind"]?.stringValue ?? "") \(i["namespace"]?.stringValue ?? "")/\(i["name"]?.stringValue ?? "")")
                }
                if case let .array(warnings)? = reply.json["warnings"] {
                    for w in warnings { FileHandle.standardError.write(Data(("warning: " + (w.stringValue ?? "") + "\n").utf8)) }
                }
            } else {
                failed = true
                for line in APIClient.errorLines(reply) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
            }
        }
        if failed { throw ExitCode(1) }
    }
}

/// A file, or the config files of a folder, sorted by name.
func inputFiles(_ path: String) throws -> [String] {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw CLIError("\(path): no such file or folder") }
    guard isDir.boolValue else { return [path] }
    let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    return names.filter { ["yaml", "yml", "json"].contains(($0 as NSString).pathExtension.lowercased()) && !$0.hasPrefix(".") }
        .map { (path as NSString).appendingPathComponent($0) }
}

struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show applied resources.")

    @Argument(help: "Kind: VirtualService (vs), DestinationRule (dr), ServiceEntry (se), WorkloadEntry, Sidecar, Gateway.") var kind: String
    @Argument(help: "Name (optional).") var name: String?
    @Option(name: .shortAndLong, help: "Namespace; empty for all.") var namespace: String = "default"
    @Option(name: .shortAndLong, help: "Output: table, yaml or json.") var output: String = "table"
    @OptionGroup var server: ServerOption

    func run() async throws {
        guard let k = ResourceKind(loose: kind) else { throw ValidationError("unknown kind '\(kind)'") }
        var path = "/api/v1/resources?kind=\(k.rawValue)&namespace=\(namespace)"
        if let name { path += "&name=\(name)" }
        let reply = try await server.client().call("GET", path)
        guard reply.status == 200, case let .array(items)? = reply.json["resources"] else {
            throw CLIError(APIClient.errorLines(reply).joined(separator: "\n"))
        }
        if name != nil && items.isEmpty { throw CLIError("\(k.rawValue) \(namespace)/\(name!) not found") }
        let docs = items.compactMap { $0["document"] }
        switch output {
        case "json": print(name != nil ? docs[0].serialized(pretty: true) : JSONValue.array(docs).serialized(pretty: true))
        case "yaml": print(docs.map(YAMLWriter.write).joined(separator: "---\n"), terminator: "")
        default:
            print("KIND".padding(toLength: 18, withPad: " ", startingAt: 0) + "NAMESPACE".padding(toLength: 14, withPad: " ", startingAt: 0) + "NAME".padding(toLength: 28, withPad: " ", startingAt: 0) + "SOURCE")
            for i in items {
                let cols = ["kind", "namespace", "name", "source"].map { i[$0]?.stringValue ?? "" }
                print(cols[0].padding(toLength: 18, withPad: " ", startingAt: 0) + cols[1].padding(toLength: 14, withPad: " ", startingAt: 0) + cols[2].padding(toLength: 28, withPad: " ", startingAt: 0) + cols[3])
            }
        }
    }
}

struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete an applied resource.")

    @Argument var kind: String
    @Argument var name: String
    @Option(name: .shortAndLong) var namespace: String = "default"
    @OptionGroup var server: ServerOption

    func run() async throws {
        guard let k = ResourceKind(loose: kind) else { throw ValidationError("unknown kind '\(kind)'") }
        let reply = try await server.client().call("DELETE", "/api/v1/resources/\(k.rawValue)/\(namespace)/\(name)")
        guard reply.status == 200 else { throw CLIError(APIClient.errorLines(reply).joined(separator: "\n")) }
        print("deleted \(k.rawValue) \(namespace)/\(name)")
    }
}

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "Check Istio YAML/JSON offline, as apply would.")
    @Option(name: .shortAndLong) var filename: String

    func run() throws {
        var all: [Resource] = []
        var problems: [Diagnostic] = []
        for file in try inputFiles(filename) {
            do { all += try ResourceDecoder.decode(text: try String(contentsOfFile: file, encoding: .utf8), file: file) } catch let e as DiagnosticError {
                problems += e.diagnostics
            }
        }
        problems += ConfigSetValidator.validate(all)
        for p in problems { FileHandle.standardError.write(Data((p.description + "\n").utf8)) }
        if !problems.isEmpty { throw ExitCode(1) }
        let warnings = all.flatMap(\.warnings) + ConfigSetValidator.warnings(all)
        for w in warnings { FileHandle.standardError.write(Data(("warning: " + w.description + "\n").utf8)) }
        print("\(all.count) resources are valid" + (warnings.isEmpty ? "" : " (\(warnings.count) warnings)"))
    }
}
