import Foundation
import WeftCore
import X509

/// Reading and writing the PEM files of a CA, with errors that name the file.
enum PEMFiles {
    static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Diagnostic(file: path, message: "cannot read the file (missing or not readable)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Diagnostic(file: path, message: "not a text (PEM) file")
        }
        return text
    }

    /// Every certificate in a PEM file, in order; at least one.
    static func certificates(_ path: String) throws -> [Certificate] {
        let text = try read(path)
        let blocks = try pemBlocks(text, file: path)
        guard !blocks.isEmpty else { throw Diagnostic(file: path, message: "no PEM certificate (-----BEGIN CERTIFICATE-----) in the file") }
        return try blocks.enumerated().map { i, block in
            do { return try Certificate(pemEncoded: block) } catch {
                throw Diagnostic(file: path, message: "certificate \(i + 1) is not a valid X.509 certificate: \(error)")
            }
        }
    }

    static func privateKey(_ path: String) throws -> Certificate.PrivateKey {
        let text = try read(path)
        do { return try Certificate.PrivateKey(pemEncoded: text) } catch {
            throw Diagnostic(file: path, message: "not a PEM private key (PKCS#8, SEC1 or PKCS#1): \(error)")
        }
    }

    /// The `-----BEGIN CERTIFICATE-----` blocks of a PEM text.
    static func pemBlocks(_ text: String, file: String) throws -> [String] {
        var out: [String] = []
        var current: [Substring]?
        for line in text.split(whereSeparator: \.isNewline) {
            let l = line.trimmingCharacters(in: .whitespaces)
            if l == "-----BEGIN CERTIFICATE-----" {
                guard current == nil else { throw Diagnostic(file: file, message: "malformed PEM: BEGIN CERTIFICATE inside another block") }
                current = [Substring(l)]
            } else if l == "-----END CERTIFICATE-----" {
                guard var c = current else { throw Diagnostic(file: file, message: "malformed PEM: END CERTIFICATE without BEGIN") }
                c.append(Substring(l))
                out.append(c.joined(separator: "\n"))
                current = nil
            } else if current != nil {
                current!.append(Substring(l))
            }
        }
        if current != nil { throw Diagnostic(file: file, message: "malformed PEM: a certificate block has no END line") }
        return out
    }

    /// Writes `text` to `path` atomically (temporary file, then rename) with the given permissions.
    static func write(_ text: String, to path: String, mode: Int) throws {
        try write(Data(text.utf8), to: path, mode: mode)
    }

    static func write(_ data: Data, to path: String, mode: Int) throws {
        let tmp = path + ".tmp"
        let fm = FileManager.default
        try? fm.removeItem(atPath: tmp)
        guard fm.createFile(atPath: tmp, contents: data, attributes: [.posixPermissions: mode]) else {
            throw Diagnostic(file: path, message: "cannot write the file")
        }
        if rename(tmp, path) != 0 { throw Diagnostic(file: path, message: "cannot rename \(tmp) into place") }
    }

    static func pem(_ certs: [Certificate]) throws -> String {
        try certs.map { try $0.serializeAsPEM().pemString + "\n" }.joined()
    }
}
