import Foundation
import WeftCore
import WeftMesh

/// `weft up --prometheus`: a real Prometheus beside the mesh, scraping every proxy found through the embedded
/// control plane's HTTP service discovery (docs/observability.md), with its data under the state folder.
struct PrometheusRunner {
    let process: SupervisedProcess
    let url: String

    /// The `prometheus` executable on PATH, if any.
    static var executable: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/prometheus"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The configuration: one job, its targets from weft control's `/api/v1/prometheus/targets`.
    static func config(api: HostPort, token: String?, https: Bool, interval: String = "5s") -> String {
        var sd = "  - url: \(https ? "https" : "http")://\(api)/api/v1/prometheus/targets\n    refresh_interval: \(interval)\n"
        if let token, !token.isEmpty {
            // `type` written out: some Prometheus versions send the bare token otherwise.
            sd += "    authorization:\n      type: Bearer\n      credentials: \(token)\n"
        }
        return "global:\n  scrape_interval: \(interval)\n  evaluation_interval: \(interval)\n"
            + "scrape_configs:\n- job_name: weft\n  http_sd_configs:\n" + sd
    }

    static func start(listen: HostPort, api: APIClient, stateDir: URL, printer: LogPrinter) throws -> PrometheusRunner {
        guard let exe = executable else {
            throw CLIError("--prometheus: no `prometheus` on PATH (Debian and Ubuntu: apt-get install prometheus)")
        }
        let dir = stateDir.appendingPathComponent("prometheus")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("prometheus.yml")
        try config(api: api.server, token: api.bearer, https: api.usesHTTPS).write(to: file, atomically: true, encoding: .utf8)
        let launch = Launch(argv: [exe, "--config.file=\(file.path)", "--storage.tsdb.path=\(dir.appendingPathComponent("data").path)",
                                   "--web.listen-address=\(listen)"], environment: ProcessInfo.processInfo.environment)
        let process = SupervisedProcess(name: "prometheus", launch: launch, printer: printer, stream: false,
                                        backoff: Backoff(initial: 1, max: 10))
        return PrometheusRunner(process: process, url: "http://\(listen)")
    }
}
