import NIOCore
import ProxyConfig

/// The timeouts of one downstream connection, as Envoy's HTTP connection manager keeps them: the connection's
/// idle timeout (no request in flight), the request headers timeout (from a request's first byte to its complete
/// headers, against slowloris) and the stream idle timeout (no bytes either way for a request in flight).
/// One scheduled check per connection, moved to the nearest deadline and never closer than `tick` apart, so a
/// request costs timestamp writes, not a timer: a deadline is noticed at most `tick` late.
final class ConnectionTimeouts {
    enum Expired { case idle, requestHeaders, streamIdle }

    let settings: HTTPConnectionSettings
    let loop: any EventLoop
    /// The owner's view of the connection, read when the check runs.
    let inFlight: () -> NIODeadline?
    let expired: (Expired) -> Void
    var lastActive = NIODeadline.now()
    var headersStarted: NIODeadline?
    var task: Scheduled<Void>?
    /// Writes a complete raw answer at the socket and closes (set by the HTTP/1 byte watcher).
    var answerRaw: ((String) -> Void)?
    var stopped = false
    let tick: TimeAmount

    /// `inFlight` returns the last activity of the request in flight, nil when there is none.
    init(settings: HTTPConnectionSettings, loop: any EventLoop, inFlight: @escaping () -> NIODeadline?,
         expired: @escaping (Expired) -> Void) {
        self.settings = settings
        self.loop = loop
        self.inFlight = inFlight
        self.expired = expired
        let shortest = [settings.requestHeadersTimeout, settings.streamIdleTimeout, settings.idleTimeout].compactMap { $0 }.min()
        tick = shortest.map { max(TimeAmount.milliseconds(100), .nanoseconds(TimeAmount($0).nanoseconds / 2)) } ?? .hours(1)
    }

    var enabled: Bool { settings.requestHeadersTimeout != nil || settings.streamIdleTimeout != nil || settings.idleTimeout != nil }

    func start() {
        guard enabled else { return }
        schedule(after: .now())
    }

    func stop() {
        stopped = true
        task?.cancel()
        task = nil
    }

    /// Bytes of a request arrived while no request was in flight: its headers' clock starts.
    func requestBytes() {
        if headersStarted == nil, settings.requestHeadersTimeout != nil, inFlight() == nil { headersStarted = .now() }
    }

    /// A request's headers are complete.
    func requestStarted() { headersStarted = nil }

    /// A response ended: the connection is idle from now.
    func requestEnded() { lastActive = .now() }

    func schedule(after now: NIODeadline) {
        guard !stopped else { return }
        let at = min(nextDeadline() ?? now + tick, now + tick)
        task = loop.scheduleTask(deadline: at) { [weak self] in self?.check() }
    }

    func nextDeadline() -> NIODeadline? {
        if let active = inFlight() {
            return settings.streamIdleTimeout.map { active + TimeAmount($0) }
        }
        let header = zip(headersStarted, settings.requestHeadersTimeout).map { $0 + TimeAmount($1) }
        let idle = settings.idleTimeout.map { lastActive + TimeAmount($0) }
        return [header, idle].compactMap { $0 }.min()
    }

    func check() {
        let now = NIODeadline.now()
        // A connection with a request in flight is not idle (its owner need not report every request's end).
        if inFlight() != nil { lastActive = now }
        if let due = nextDeadline(), due <= now {
            if inFlight() != nil {
                expired(.streamIdle)
            } else if let h = headersStarted, let t = settings.requestHeadersTimeout, h + TimeAmount(t) <= now {
                expired(.requestHeaders)
            } else {
                expired(.idle)
            }
        }
        schedule(after: now)
    }
}

private func zip<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
