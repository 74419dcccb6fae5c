import ArgumentParser
import Foundation
import WeftCore
import WeftMesh

/// `weft demo`: the bundled shop on this machine, with a load generator, and recipes to try.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the bundled demo shop (front page, details, reviews v1/v2/v3, ratings, load) on a local mesh.",
        discussion: "Prints the front page's URL and recipes to try (canary, header routing, fault injection, rollback). "
            + "--once walks through the recipes itself, prints what it saw, and stops."
    )

    @Flag(help: "Walk through the recipes non-interactively, print the results, and stop.") var once = false
    @Flag(help: "Leave the load generator out.") var noLoad = false
    @Option(help: "Write the shop's mesh.yaml, istio/ and recipes/ to this folder and exit.") var export: String?
    @OptionGroup var mesh: MeshRunOptions

    func run() async throws {
        if let export {
            try write(to: URL(fileURLWithPath: export))
            print("wrote the demo shop to \(export): weft up -f \(export)/mesh.yaml")
            return
        }
        var spec = try MeshDecoder.decode(text: DemoShop.mesh, file: "demo mesh.yaml")
        if noLoad || once { spec.services.removeAll { $0.name == "loadgen" } }
        spec.configFolder = nil  // written below, into the state folder
        var session = try mesh.session(spec, configBase: URL(fileURLWithPath: "/"), file: "demo")
        let shop = session.stateDir.appendingPathComponent("shop")
        try write(to: shop)
        session.configFolder = shop.appendingPathComponent("istio")
        let once = self.once, noLoad = self.noLoad
        session.whenReady = { s, plans in
            let front = plans.first { $0.services.first?.name == "front" }!
            let url = "http://\(HostPort(host: front.address, port: front.services[0].inboundPort))/"
            FileHandle.standardOutput.write(Data(DemoWalkthrough.banner(url: url, api: s.api, recipes: shop.appendingPathComponent("recipes").path,
                                                                         load: !(noLoad || once)).utf8))
            guard once else { return false }
            await DemoWalkthrough(url: url, api: APIClient(server: s.api), recipes: shop.appendingPathComponent("recipes")).run()
            return true
        }
        try await session.run()
    }

    func write(to dir: URL) throws {
        for (path, text) in DemoShop.files {
            let url = dir.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
    }
}
