import Foundation
import NIOCore
import NIOSSL
import WeftCA
import WeftCore

/// HTTPS for the API when it listens beyond loopback: the control plane's certificate from the mesh CA, naming
/// the addresses it answers at (every address of the host for 0.0.0.0 or ::), with the root last in the chain so
/// a client holding only the root's fingerprint (from its token or CLI config) can check it. On loopback the API
/// stays plain HTTP: only this host can reach it, and its tokens still guard it.
enum APITLS {
    static func secure(ca: MeshCA, api: HostPort, namespace: String, now: Date) throws -> (@Sendable (Channel) throws -> Void)? {
        guard !api.isLoopback else { return nil }
        var name = [CChar](repeating: 0, count: 256)
        let hostName = gethostname(&name, name.count) == 0 ? String(cString: name) : ""
        var hosts = [api.host, "localhost", hostName]
        if api.isWildcard {
            hosts += ((try? System.enumerateDevices()) ?? []).compactMap { $0.address?.ipAddress?.split(separator: "%").first.map(String.init) }
        }
        var unique: [String] = []
        for h in hosts where !h.isEmpty && !unique.contains(h) && !(HostPort(host: h, port: 0).isWildcard) { unique.append(h) }
        let (cert, key) = try ca.issueControlPlane(namespace: namespace, now: now, hosts: unique)
        let chain = try (cert.chainBlocks + [ca.rootPEM]).flatMap { try NIOSSLCertificate.fromPEMBytes(Array($0.utf8)) }
        let config = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                              privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem)))
        let context = try NIOSSLContext(configuration: config)
        return { channel in try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context)) }
    }
}
