import NIOCore
import ProxyRouting

/// Envoy's consecutive-error outlier detection, per worker: an endpoint that fails `consecutive5xx` (or
/// `consecutiveGatewayFailure`) times in a row leaves rotation for base ejection time x times ejected (capped),
/// never more than max ejection percent of the cluster (at least one). Below the panic threshold the whole
/// cluster is used anyway, as Envoy does.
extension ClusterRuntime {
    /// Brings back endpoints whose ejection ended; cheap when none is due.
    func uneject(now: NIODeadline) {
        guard let due = nextUnejection, now >= due else { return }
        for pool in allPools where (pool.ejectedUntil.map { $0 <= now } ?? false) {
            pool.ejectedUntil = nil
        }
        recompute()
    }

    /// Records how an exchange with `pool` ended: an HTTP status, or 0 for a connection failure or reset.
    func record(_ pool: UpstreamPool, status: Int, now: NIODeadline) {
        guard let o = config.outlier else { return }
        let isError = status == 0 || status >= 500
        let isGateway = status == 0 || (502...504).contains(status)
        pool.consecutive5xx = isError ? pool.consecutive5xx + 1 : 0
        pool.consecutiveGateway = isGateway ? pool.consecutiveGateway + 1 : 0
        guard pool.ejectedUntil == nil else { return }
        let by5xx = o.enforcing5xx > 0 && o.consecutive5xx.map { $0 > 0 && pool.consecutive5xx >= $0 } == true
        let byGateway = o.enforcingGatewayFailure > 0 && o.consecutiveGatewayFailure.map { $0 > 0 && pool.consecutiveGateway >= $0 } == true
        guard by5xx || byGateway else { return }
        let ejected = allPools.filter { $0.ejectedUntil != nil }.count
        let allowed = max(1, allPools.count * o.maxEjectionPercent / 100)
        guard ejected < allowed else { return }
        pool.ejections += 1
        let time = min(o.baseEjectionTime * Int64(pool.ejections), max(o.baseEjectionTime, o.maxEjectionTime))
        pool.ejectedUntil = now + .nanoseconds(time)
        pool.consecutive5xx = 0
        pool.consecutiveGateway = 0
        counters.value.ejectionsTotal += 1
        recompute()
    }
}
