import WeftCore

/// Decodes documents into resources. Shape errors (types, unknown fields, enum names) are found here;
/// meaning errors (ranges, regexes, references) by `ResourceValidator` and `ConfigSetValidator`.
public enum ResourceDecoder {
    public static let apiVersions: Set<String> = [
        "networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3",
    ]

    /// Decodes and validates every document of a file. Returns resources, or throws all problems at once.
    public static func decode(text: String, file: String, defaultNamespace: String = "default") throws(DiagnosticError) -> [Resource] {
        let docs: [JSONValue]
        do { docs = try DocumentLoader.documents(text, file: file) } catch { throw DiagnosticError([error]) }
        var resources: [Resource] = []
        var problems: [Diagnostic] = []
        for (index, doc) in docs.enumerated() {
            let ctx = DecodeContext(file: file)
            if var r = decode(document: doc, index: index, ctx: ctx, defaultNamespace: defaultNamespace), ctx.diagnostics.isEmpty {
                let checked = ResourceValidator.check(r)
                r.warnings = ctx.warnings + checked.warnings
                if checked.errors.isEmpty { resources.append(r) } else { problems += checked.errors }
            }
            problems += ctx.diagnostics
        }
        if !problems.isEmpty { throw DiagnosticError(problems) }
        return resources
    }

    static func decode(document: JSONValue, index: Int, ctx: DecodeContext, defaultNamespace: String) -> Resource? {
        ctx.resource = "document \(index + 1)"
        guard let top = ObjectReader(document, path: "", ctx: ctx) else { return nil }
        // Kubernetes adds `status`; it carries nothing Weft uses.
        _ = top.raw("status")
        let apiVersion = top.string("apiVersion", required: true)
        let kindText = top.string("kind", required: true)
        guard let meta = top.object("metadata") else {
            ctx.error("metadata", "missing required field")
            return nil
        }
        let name = meta.string("name", required: true) ?? ""
        let namespace = meta.string("namespace") ?? defaultNamespace
        _ = meta.stringMap("labels")
        let annotations = meta.stringMap("annotations")
        for k in ["uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "generateName",
                  "ownerReferences", "finalizers", "selfLink", "deletionTimestamp"] { _ = meta.raw(k) }
        meta.finish()
        guard let kindText, let kind = ResourceKind(rawValue: kindText) else {
            if let k = kindText {
                ctx.error("kind", "unknown kind '\(k)' (supported: \(ResourceKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return nil
        }
        let key = ResourceKey(kind: kind, namespace: namespace, name: name)
        ctx.resource = key.description
        if let apiVersion, kind == .RateLimit, apiVersion != RateLimit.apiVersion {
            ctx.error("apiVersion", "'\(apiVersion)' is not supported for RateLimit (use \(RateLimit.apiVersion))")
        } else if let apiVersion, Self.securityKinds.contains(kind), !PeerAuthentication.apiVersions.contains(apiVersion) {
            ctx.error("apiVersion", "'\(apiVersion)' is not supported for \(kind.rawValue) (use security.istio.io/v1 or v1beta1)")
        } else if let apiVersion, kind == .Telemetry, !Telemetry.apiVersions.contains(apiVersion) {
            ctx.error("apiVersion", "'\(apiVersion)' is not supported for Telemetry (use telemetry.istio.io/v1 or v1alpha1)")
        } else if let apiVersion, kind != .RateLimit, kind != .Telemetry, !Self.securityKinds.contains(kind), !apiVersions.contains(apiVersion) {
            ctx.error("apiVersion", "'\(apiVersion)' is not supported (use networking.istio.io/v1, v1beta1 or v1alpha3)")
        }
        if !name.isEmpty && !KubernetesName.isSubdomain(name) {
            ctx.error("metadata.name", KubernetesName.subdomainProblem(name))
        }
        if !KubernetesName.isLabel(namespace) {
            ctx.error("metadata.namespace", KubernetesName.labelProblem(namespace))
        }
        guard let specReader = top.object("spec") else {
            ctx.error("spec", "missing required field")
            top.finish()
            return nil
        }
        top.finish()
        let spec: ResourceSpec
        switch kind {
        case .VirtualService: spec = .virtualService(.decode(specReader))
        case .DestinationRule:
            var dr = DestinationRule.decode(specReader)
            dr.healthCheck = ActiveHealthCheck.decode(annotations: annotations, ctx: ctx)
            spec = .destinationRule(dr)
        case .ServiceEntry: spec = .serviceEntry(.decode(specReader))
        case .WorkloadEntry:
            guard let we = WorkloadEntry.decode(specReader) else { return nil }
            spec = .workloadEntry(we)
        case .WorkloadGroup: spec = .workloadGroup(.decode(specReader))
        case .Sidecar:
            spec = .sidecar(.decode(specReader))
            ctx.notApplied("spec")
        case .Gateway:
            spec = .gateway(.decode(specReader))
            ctx.notApplied("spec")
        case .RateLimit: spec = .rateLimit(.decode(specReader))
        case .PeerAuthentication: spec = .peerAuthentication(.decode(specReader))
        case .AuthorizationPolicy: spec = .authorizationPolicy(.decode(specReader, annotations: annotations))
        case .RequestAuthentication: spec = .requestAuthentication(.decode(specReader))
        case .Telemetry: spec = .telemetry(.decode(specReader))
        }
        return Resource(key: key, spec: spec, document: document, source: ctx.file)
    }

    /// Kinds of `security.istio.io`.
    static let securityKinds: Set<ResourceKind> = [.PeerAuthentication, .AuthorizationPolicy, .RequestAuthentication]

    /// A namespace name (a DNS-1123 label, as Kubernetes requires).
    public static func isDNSLabelish(_ s: String) -> Bool { KubernetesName.isLabel(s) }
}
