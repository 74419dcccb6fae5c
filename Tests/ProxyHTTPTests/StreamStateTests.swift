import ProxyConfig
import ProxyRouting
import Testing
@testable import ProxyHTTP

/// The per-stream state machine as tables of events: no sockets, no clock.
@Suite struct StreamStateTests {
    let retry5xx = RetryPolicy(attempts: 2, on5xx: true, onConnectFailure: true, baseInterval: .nanoseconds(25), maxInterval: .nanoseconds(250))

    func routed(_ retry: RetryPolicy?, complete: Bool = true) -> StreamState {
        var s = StreamState(isUpgrade: false)
        s.forwarded(retry: retry)
        if complete { s.requestEnded() }
        let started = s.startAttempt()
        #expect(started)
        return s
    }

    @Test func aRetriableAnswerIsRetriedUntilTheTriesRunOutThenForwarded() {
        var s = routed(retry5xx)
        var sent = s.connected()
        #expect(sent == .send(resend: false))
        var head = s.responseHead(status: 503, retryBudgetAllows: true)
        #expect(head == .retry(.retry(backoff: .nanoseconds(25), firstRetry: true)))
        #expect(s.phase == .backingOff && s.countsAsRetry)
        var again = s.startAttempt()
        #expect(again && s.attempts == 2)
        sent = s.connected()
        #expect(sent == .send(resend: true))
        head = s.responseHead(status: 503, retryBudgetAllows: true)
        #expect(head == .retry(.retry(backoff: .nanoseconds(50), firstRetry: false)))
        again = s.startAttempt()
        sent = s.connected()
        #expect(again && sent == .send(resend: true))
        // attempts 2 means 2 retries: the third try's answer is the caller's, whatever it is.
        head = s.responseHead(status: 503, retryBudgetAllows: true)
        #expect(head == .forward)
        let end = s.responseEnded()
        #expect(end == .finish(reusable: true))
        #expect(s.isDone)
    }

    @Test func connectFailures() {
        // (retry policy?, budget, decision)
        let table: [(Bool, Bool, StreamState.RetryDecision)] = [
            (true, true, .retry(backoff: .nanoseconds(25), firstRetry: true)),
            (true, false, .fail(overBudget: true)),
            (false, true, .fail(overBudget: false)),
        ]
        for (i, (withPolicy, budget, decision)) in table.enumerated() {
            var s = routed(withPolicy ? retry5xx : nil)
            let got = s.connectFailed(retryBudgetAllows: budget)
            #expect(got == decision, "case \(i)")
        }
    }

    @Test func aBodyTooLargeToKeepIsNeverResent() {
        var s = routed(retry5xx)
        s.canResend = false
        _ = s.connected()
        let head = s.responseHead(status: 503, retryBudgetAllows: true)
        #expect(head == .forward)
    }

    @Test func anAnswerBeforeTheRequestEndedIsNotRetried() {
        var s = routed(retry5xx, complete: false)
        _ = s.connected()
        let head = s.responseHead(status: 503, retryBudgetAllows: true)
        #expect(head == .forward)
        let end = s.responseEnded()
        #expect(end == .finish(reusable: false), "the request was not all sent: the connection is not reused")
    }

    @Test func perTryTimeoutCountsOnlyForTheTryInFlight() {
        var s = routed(RetryPolicy(attempts: 1, on5xx: true, perTryTimeout: .nanoseconds(100), baseInterval: .nanoseconds(25)))
        _ = s.connected()
        let other = s.perTryTimedOut(attempt: 7, retryBudgetAllows: true)
        #expect(other == nil, "a timer of another try")
        let first = s.perTryTimedOut(attempt: 1, retryBudgetAllows: true)
        #expect(first == .retry(backoff: .nanoseconds(25), firstRetry: true))
        _ = s.startAttempt()
        _ = s.connected()
        let second = s.perTryTimedOut(attempt: 2, retryBudgetAllows: true)
        #expect(second == .fail(overBudget: false))
    }

    @Test func aResetMidResponseAbortsTheCallerAndNothingIsRetried() {
        var s = routed(RetryPolicy(attempts: 3, onReset: true))
        _ = s.connected()
        let head = s.responseHead(status: 200, retryBudgetAllows: true)
        #expect(head == .forward)
        let timeout = s.routeTimedOut()
        #expect(!timeout, "once the answer has started, the route timeout no longer answers 504")
        let lost = s.upstreamLost(reused: false, retryBudgetAllows: true)
        #expect(lost == .abortDownstream)
        let local = s.answeredLocally()
        #expect(s.isDone && !local)
    }

    @Test func aResetBeforeTheAnswerIsRetriedOnAReusedConnectionOrWhenThePolicySaysSo() {
        var plain = routed(nil)
        _ = plain.connected()
        let a = plain.upstreamLost(reused: false, retryBudgetAllows: true)
        #expect(a == .retry(.fail(overBudget: false)))
        var reused = routed(nil)
        _ = reused.connected()
        let b = reused.upstreamLost(reused: true, retryBudgetAllows: true)
        #expect(b == .retry(.fail(overBudget: false)), "without a policy there is no retry, even on a stale keep-alive connection")
        var policy = routed(RetryPolicy(attempts: 1, baseInterval: .nanoseconds(10)))
        _ = policy.connected()
        let c = policy.upstreamLost(reused: true, retryBudgetAllows: true)
        #expect(c == .retry(.retry(backoff: .nanoseconds(10), firstRetry: true)))
    }

    @Test func theCallerLeavingEndsEverythingOnce() {
        var s = routed(retry5xx)
        let first = s.downstreamClosed()
        let second = s.downstreamClosed()
        let local = s.answeredLocally()
        #expect(first && !second && !local)
        let conn = s.connected()
        #expect(conn == .release, "a connection that arrives afterwards goes back unused")
        let again = s.startAttempt()
        #expect(!again)
        let head = s.responseHead(status: 200, retryBudgetAllows: true)
        #expect(head == .ignore)
    }

    @Test func anUpgradeIsHeldUntilItsEndThenTunnelled() {
        var s = StreamState(isUpgrade: true)
        s.forwarded(retry: nil)
        _ = s.startAttempt()
        _ = s.connected()
        let cont = s.responseHead(status: 100, retryBudgetAllows: true)
        let up = s.responseHead(status: 101, retryBudgetAllows: true)
        #expect(cont == .ignore && up == .holdUpgrade)
        let timeout = s.routeTimedOut()
        #expect(!s.responseStarted && timeout)
        let end = s.responseEnded()
        #expect(end == .tunnel && s.isDone)
    }
}
