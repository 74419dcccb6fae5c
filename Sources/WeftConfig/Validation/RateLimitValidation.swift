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

    static func localityLbSetting(_ l: LocalityLbSetting, _ p: String, _ c: inout Checker) {
        if !l.distribute.isEmpty && !l.failover.isEmpty { c.error(p, "set only one of distribute and failover") }
        for (i, d) in l.distribute.enumerated() {
            let dp = "\(p).distribute[\(i)]"
            if !d.from.isEmpty && !LocalityLbSetting.isLocality(d.from, wildcards: true) {
                c.error("\(dp).from", "'\(d.from)' must be region, region/zone or region/zone/subzone (parts may be *)")
            }
            if d.to.isEmpty { c.error("\(dp).to", "must name at least one locality") }
            for (loc, w) in d.to.sorted(by: { $0.key < $1.key }) {
                if !LocalityLbSetting.isLocality(loc, wildcards: true) {
                    c.error("\(dp).to[\"\(loc)\"]", "'\(loc)' must be region, region/zone or region/zone/subzone (parts may be *)")
                }
                if !(0...100).contains(w) { c.error("\(dp).to[\"\(loc)\"]", "weight must be between 0 and 100, got \(w)") }
            }
            let sum = d.to.values.reduce(0, +)
            if !d.to.isEmpty && sum != 100 { c.error("\(dp).to", "weights must add up to 100, got \(sum)") }
        }
        for (i, f) in l.failover.enumerated() {
            let fp = "\(p).failover[\(i)]"
            for (field, v) in [("from", f.from), ("to", f.to)] where !v.isEmpty && (v.contains("/") || !LocalityLbSetting.isLocality(v, wildcards: false)) {
                c.error("\(fp).\(field)", "'\(v)' must be a region name")
            }
            if !f.from.isEmpty && f.from == f.to { c.error("\(fp).to", "must differ from from") }
        }
        for (i, label) in l.failoverPriority.enumerated() where label.isEmpty || label.contains(" ") {
            c.error("\(p).failoverPriority[\(i)]", "'\(label)' is not a label name")
        }
    }
}
