extension ResourceValidator {
    static func validateRateLimit(_ rl: RateLimit, _ c: inout Checker) {
        switch (rl.host, rl.workloadLabels) {
        case (nil, nil): c.error("spec", "set one of host (per route, at callers) and workloadSelector (per workload)")
        case (.some, .some): c.error("spec.workloadSelector", "set only one of host and workloadSelector")
        case let (host?, nil): c.host(host, "spec.host", wildcard: false)
        case let (nil, labels?):
            if labels.isEmpty { c.error("spec.workloadSelector.labels", "must not be empty") }
            c.labels(labels, "spec.workloadSelector.labels")
            if !rl.routes.isEmpty { c.error("spec.routes", "only with host") }
        }
        let b = "spec.tokenBucket"
        c.positive(rl.tokenBucket.maxTokens, "\(b).maxTokens")
        c.positive(rl.tokenBucket.tokensPerFill, "\(b).tokensPerFill")
        if rl.tokenBucket.fillInterval > 0 && rl.tokenBucket.fillInterval < 50_000_000 {
            c.error("\(b).fillInterval", "must be at least 50ms")
        }
        if !(400...599).contains(rl.statusCode) { c.error("spec.statusCode", "must be between 400 and 599, got \(rl.statusCode)") }
        var seen: Set<String> = []
        for (i, r) in rl.routes.enumerated() where !seen.insert(r).inserted { c.error("spec.routes[\(i)]", "duplicate route '\(r)'") }
    }
}
