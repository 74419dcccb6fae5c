import ProxyConfig
import ProxyRouting

/// One request's life on the proxy as a state machine, in the style of NIO's: the Exchange reports what happened
/// (the events below), and the machine moves and answers what to do. It owns every decision about the request's
/// course (which tries are left, whether a failure is retried, when the answer is final), and no I/O, clock or
/// randomness: those come in with the events, so it is tested with tables of events.
struct StreamState {
    enum Phase: Equatable {
        /// Filters and the router have not sent it anywhere yet.
        case routing
        /// Try `attempts` waits for an upstream connection.
        case connecting
        /// Try `attempts` is connected; the response head has not come.
        case sending
        /// A retry is scheduled.
        case backingOff
        /// The response head went downstream: no retry is possible any more.
        case responding
        /// The upstream agreed to an upgrade (101); the connections become a tunnel at its end.
        case upgrading
        /// Answered, aborted, tunnelled, or the caller left.
        case done
    }

    private(set) var phase = Phase.routing
    /// Tries started so far.
    private(set) var attempts = 0
    /// The caller has sent the whole request.
    private(set) var requestComplete = false
    /// The whole request body is kept for a resend (false once it outgrew the retain limit).
    var canResend = true
    /// The request counts against the cluster's retries in flight.
    private(set) var countsAsRetry = false
    private(set) var retry: RetryPolicy?
    let isUpgrade: Bool

    init(isUpgrade: Bool) {
        self.isUpgrade = isUpgrade
    }

    var isDone: Bool { phase == .done }
    /// The response head went downstream (a held 101 does not count: the caller has seen nothing yet).
    var responseStarted: Bool { phase == .responding }

    // MARK: events from the caller

    mutating func requestEnded() { requestComplete = true }

    /// The caller went away: true when there was something left to clean up.
    mutating func downstreamClosed() -> Bool { finish() }

    /// The proxy answers itself (a filter, the router, a failure): true unless it answered already.
    mutating func answeredLocally() -> Bool { finish() }

    // MARK: tries

    /// The router sends the request upstream with this retry policy.
    mutating func forwarded(retry: RetryPolicy?) {
        self.retry = retry
    }

    /// A try starts (first or retry): false when the request is over already.
    mutating func startAttempt() -> Bool {
        guard phase == .routing || phase == .backingOff else { return false }
        attempts += 1
        phase = .connecting
        return true
    }

    enum ConnectedAction: Equatable {
        /// Send the request: its parts so far, or (on a retry) the kept body.
        case send(resend: Bool)
        /// The request ended meanwhile: give the connection back unused.
        case release
    }

    mutating func connected() -> ConnectedAction {
        guard phase == .connecting else { return .release }
        phase = .sending
        return .send(resend: attempts > 1)
    }

    enum HeadAction: Equatable {
        case ignore
        /// Keep the 101 until its end, then tunnel.
        case holdUpgrade
        /// Drop this response (its connection is not reused) and retry, or fail as `retryOrFail` says.
        case retry(RetryDecision)
        /// Send the response head downstream.
        case forward
    }

    /// The upstream's response head.
    mutating func responseHead(status: Int, retryBudgetAllows: @autoclosure () -> Bool) -> HeadAction {
        guard phase == .sending else { return .ignore }
        if status == 100 { return .ignore }
        if status == 101 && isUpgrade {
            phase = .upgrading
            return .holdUpgrade
        }
        if let r = retry, r.retriable(status: status), attempts <= r.attempts, canResend, requestComplete {
            return .retry(retryOrFail(allowed: true, budgetAllows: retryBudgetAllows()))
        }
        phase = .responding
        return .forward
    }

    enum EndAction: Equatable {
        case ignore
        case tunnel
        /// The response is complete: the connection may be reused if the request was complete too.
        case finish(reusable: Bool)
    }

    mutating func responseEnded() -> EndAction {
        switch phase {
        case .upgrading:
            phase = .done
            return .tunnel
        case .responding:
            phase = .done
            return .finish(reusable: requestComplete)
        default:
            return .ignore
        }
    }

    enum LostAction: Equatable {
        case ignore
        /// The response was under way: cut the caller's connection too.
        case abortDownstream
        case retry(RetryDecision)
    }

    /// The upstream connection closed or failed. A reused keep-alive connection that the peer had closed is safe
    /// to send again on a fresh one; other resets are retried only when the policy retries on reset.
    mutating func upstreamLost(reused: Bool, retryBudgetAllows: @autoclosure () -> Bool) -> LostAction {
        switch phase {
        case .responding:
            phase = .done
            return .abortDownstream
        case .sending, .upgrading:
            return .retry(retryOrFail(allowed: reused || (retry?.onReset ?? false), budgetAllows: retryBudgetAllows()))
        default:
            return .ignore
        }
    }

    /// No connection could be made for this try.
    mutating func connectFailed(retryBudgetAllows: @autoclosure () -> Bool) -> RetryDecision {
        guard phase == .connecting else { return .ignore }
        return retryOrFail(allowed: retry?.onConnectFailure ?? false, budgetAllows: retryBudgetAllows())
    }

    /// The per-try timeout of try `attempt` fired: a decision, or nil when that try is already over.
    mutating func perTryTimedOut(attempt: Int, retryBudgetAllows: @autoclosure () -> Bool) -> RetryDecision? {
        guard phase == .sending, attempt == attempts else { return nil }
        return retryOrFail(allowed: retry.map { $0.on5xx || $0.onGatewayError } ?? false, budgetAllows: retryBudgetAllows())
    }

    /// The route's timeout fired: true when the request must be answered with 504 now.
    mutating func routeTimedOut() -> Bool {
        !isDone && !responseStarted
    }

    // MARK: retry decisions

    enum RetryDecision: Equatable {
        case ignore
        /// Try again after `backoff` at most (the caller jitters it); `firstRetry` when the request
        /// now counts against the cluster's retries in flight.
        case retry(backoff: Duration, firstRetry: Bool)
        /// Answer with the failure; `overBudget` when only the retry budget stopped a retry.
        case fail(overBudget: Bool)
    }

    mutating func retryOrFail(allowed: Bool, budgetAllows: @autoclosure () -> Bool) -> RetryDecision {
        guard let r = retry, allowed, attempts <= r.attempts, canResend, !responseStarted, !isDone else {
            return .fail(overBudget: false)
        }
        // Read only when a retry is otherwise possible: the budget is two atomic loads across workers.
        guard budgetAllows() else { return .fail(overBudget: true) }
        let first = !countsAsRetry
        countsAsRetry = true
        phase = .backingOff
        return .retry(backoff: min(r.maxInterval, r.baseInterval * (1 << min(attempts - 1, 10))), firstRetry: first)
    }

    private mutating func finish() -> Bool {
        guard phase != .done else { return false }
        phase = .done
        return true
    }
}
