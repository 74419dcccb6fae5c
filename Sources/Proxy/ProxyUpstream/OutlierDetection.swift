import NIOCore
import ProxyConfig
import Synchronization

/// Envoy's consecutive-error outlier detection, per cluster across workers: an endpoint that fails
/// `consecutive5xx` (or `consecutiveGatewayFailure`) times in a row, counted over every worker, leaves rotation
/// for base ejection time x times ejected (capped), never more than max ejection percent of the cluster (at
/// least one). The worker that ejects rebuilds its rotation at once and tells the others, which rebuild theirs
/// on their own loops. Below the panic threshold the whole cluster is used anyway, as Envoy does.
extension ClusterRuntime {
    /// Brings back endpoints whose ejection ended; cheap when none is due.
    func uneject(now: NIODeadline) {
        guard let due = nextUnejection, now >= due else { return }
        for pool in allPools { pool.endpoint.unejectIfOver(at: now) }
        recompute(now: now)
    }

    /// Records how an exchange with `pool` ended: an HTTP status, or 0 for a connection failure or reset.
    package func record(_ pool: UpstreamPool, status: Int, now: NIODeadline = .now()) {
        guard let o = config.outlier else { return }
        let e = pool.endpoint
        let isError = status == 0 || status >= 500
        let isGateway = status == 0 || (502...504).contains(status)
        let n5xx = Self.count(e.consecutive5xx, isError)
        let nGateway = Self.count(e.consecutiveGateway, isGateway)
        guard !e.isEjected(at: now) else { return }
        let by5xx = o.enforcing5xx > 0 && o.consecutive5xx.map { $0 > 0 && n5xx >= $0 } == true
        let byGateway = o.enforcingGatewayFailure > 0 && o.consecutiveGatewayFailure.map { $0 > 0 && nGateway >= $0 } == true
        guard by5xx || byGateway else { return }
        let ejected = allPools.filter { $0.endpoint.isEjected(at: now) }.count
        let allowed = max(1, allPools.count * o.maxEjectionPercent / 100)
        guard ejected < allowed else { return }
        let times = e.ejections.load(ordering: .relaxed) + 1
        let time = min(o.baseEjectionTime * times, max(o.baseEjectionTime, o.maxEjectionTime))
        // Another worker may have ejected it a moment ago: only one ejection counts.
        guard e.eject(until: now + TimeAmount(time)) else { return recompute(now: now) }
        e.ejections.wrappingAdd(1, ordering: .relaxed)
        e.consecutive5xx.store(0, ordering: .relaxed)
        e.consecutiveGateway.store(0, ordering: .relaxed)
        counters.value.ejectionsTotal += 1
        recompute(now: now)
        shared.publishEjection(shared.name)
    }

    /// Adds one to a run of errors, or ends the run; the run's new length.
    static func count(_ run: borrowing Atomic<Int>, _ isError: Bool) -> Int {
        guard isError else {
            run.store(0, ordering: .relaxed)
            return 0
        }
        return run.wrappingAdd(1, ordering: .relaxed).newValue
    }
}
