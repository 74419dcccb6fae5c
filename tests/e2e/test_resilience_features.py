"""Resilience and testing in production, on both data planes: fault injection (delay, scoped abort,
gRPC abort), circuit breaking, outlier detection, retries, and the validation of their fields."""

from __future__ import annotations

import threading
import time

import pytest

from helpers import (
    RawConn, destination_rule_with_policy, docs, route_all, service_entry, session, version_of,
    virtual_service, wait_until, workload_entry,
)

FLAG = "x-weft-response-flags"
# A 200 ms fault delay counts as kept at >= 195 ms: Envoy's timer was measured firing up to 2 ms
# early (198.1 ms from the client's send to its answer).
SLOW = 0.195
V1_CLUSTER = "outbound|9080|v1|reviews.default.svc.cluster.local"


def _timed(m, path: str = "/", headers: dict[str, str] | None = None, sess=None,
           timeout: float = 5.0) -> tuple[float, object]:
    t0 = time.monotonic()
    r = m.request("reviews", path, headers=headers, sess=sess, timeout=timeout)
    return time.monotonic() - t0, r


def _reviews_entries(m, ups: dict[str, object]) -> str:
    """ServiceEntry reviews + one WorkloadEntry per {name: upstream} (version label = name[:2])."""
    return docs(service_entry("reviews"), *(
        workload_entry(f"reviews-{name}", m.host, u.port, {"app": "reviews", "version": name[:2]})
        for name, u in ups.items()))


def _fault_vs(fault_yaml: str, subset: str = "v1") -> str:
    """One http route for reviews with the given `fault:` body (YAML, indented under fault)."""
    return virtual_service(f"""
        - fault:
{fault_yaml}
          route:
          - destination:
              host: reviews
              subset: {subset}
        """)


def _delay_vs(percent: float, delay: str = "200ms") -> str:
    return _fault_vs(f"""\
            delay:
              fixedDelay: {delay}
              percentage:
                value: {percent}""")


# ---------------------------------------------------------------- 1. fault delay


def test_fault_delay_fixed_and_partial(reviews_mesh, report):
    m = reviews_mesh
    m.apply(route_all("v1"))
    m.wait_routing("reviews", "v1")

    with session() as s:
        m.request("reviews", "/warm", sess=s)
        plain = [_timed(m, f"/plain/{i}", sess=s) for i in range(10)]
    assert all(version_of(r) == "v1" for _, r in plain), [version_of(r) for _, r in plain]
    plain_ms = [round(t * 1000, 1) for t, _ in plain]
    report("latency without fault (ms, 10 requests)", str(plain_ms))
    assert max(plain_ms) < 100, f"without a fault every request should take < 100 ms: {plain_ms}"

    m.apply(_delay_vs(100))
    wait_until(lambda: _timed(m, "/probe")[0] >= SLOW, 10, 0.02, desc="the 200 ms delay in force")
    with session() as s:
        delayed = [_timed(m, f"/delayed/{i}", sess=s) for i in range(10)]
    assert all(version_of(r) == "v1" for _, r in delayed), [version_of(r) for _, r in delayed]
    delayed_ms = [round(t * 1000, 1) for t, _ in delayed]
    report("latency with fixedDelay 200ms at 100% (ms, 10 requests)", str(delayed_ms))
    assert min(delayed_ms) >= SLOW * 1000, f"every request must take >= 200 ms with the fault: {delayed_ms}"
    assert max(delayed_ms) < 1000, f"a 200 ms delay took far longer: {delayed_ms}"

    m.apply(_delay_vs(50))
    wait_until(lambda: _timed(m, "/probe")[0] < 0.1, 10, 0.0, desc="some requests fast again at 50%")
    n = 40
    with session() as s:
        half = [_timed(m, f"/half/{i}", sess=s)[0] for i in range(n)]
    slow = sum(1 for t in half if t >= SLOW)
    fast = sum(1 for t in half if t < 0.1)
    report(f"50% delay: slow (>=195ms) / fast (<100ms) of {n}", f"{slow} / {fast}")
    assert slow + fast == n, f"answers neither clearly slow nor fast: {[round(t * 1000) for t in half]}"
    assert 0.25 <= slow / n <= 0.75, f"slow share {slow / n:.2f} not 0.50 +/- 0.25"


# ---------------------------------------------------------------- 2. fault scoped by a match


def test_fault_abort_scoped_by_header_match(reviews_mesh, report):
    m = reviews_mesh
    m.apply(virtual_service("""
        - match:
          - headers:
              x-drill:
                exact: "yes"
          fault:
            abort:
              httpStatus: 418
              percentage:
                value: 100
          route:
          - destination:
              host: reviews
              subset: v1
        - route:
          - destination:
              host: reviews
              subset: v1
        """))
    drill = {"x-drill": "yes"}
    m.wait_routing("reviews", "HTTP 418", headers=drill)
    before = len(m.ups["v1"].requests)
    drilled = m.sample("reviews", 30, headers=drill)
    assert drilled == {"HTTP 418": 30}, f"x-drill: yes -> {dict(drilled)}"
    assert len(m.ups["v1"].requests) == before, "aborted drill requests must not reach the upstream"
    others = m.sample("reviews", 30, headers={"x-drill": "no"})
    plain = m.sample("reviews", 30)
    assert others == {"v1": 30}, f"x-drill: no -> {dict(others)}"
    assert plain == {"v1": 30}, f"no x-drill -> {dict(plain)}"
    report("drill / x-drill:no / plain", f"{dict(drilled)} / {dict(others)} / {dict(plain)}")
    if m.dataplane == "weft":
        r = m.request("reviews", "/", headers=drill)
        assert r.headers.get(FLAG) == "FI", f"weft: {FLAG} should be FI: {dict(r.headers)}"


# ---------------------------------------------------------------- 3. gRPC abort status


def _raw_post(e, headers: str):
    with RawConn(e.host, e.outbound_port) as c:
        c.send(("POST /pkg.Echo/Say HTTP/1.1\r\nHost: reviews\r\n" + headers +
                "content-length: 0\r\nconnection: close\r\n\r\n").encode())
        return c.response()


def test_fault_abort_grpc_status(reviews_mesh, report):
    """Envoy's fault filter (measured): a gRPC request (content-type application/grpc, here over
    HTTP/1.1) gets HTTP 200 with one content-type application/grpc, grpc-status 14 and
    grpc-message "fault filter abort", no body; a plain HTTP request gets HTTP 200, text/plain
    "fault filter abort" and NO grpc-status. weft proxy must answer the same way."""
    m = reviews_mesh
    e = m.envoys[0]
    m.apply(_fault_vs("""\
            abort:
              grpcStatus: UNAVAILABLE
              percentage:
                value: 100"""))
    grpc_headers = "content-type: application/grpc\r\nte: trailers\r\n"
    wait_until(lambda: _raw_post(e, grpc_headers).header("grpc-status") == "14", 10, 0.05,
               desc="the gRPC abort in force")
    before = len(m.ups["v1"].requests)

    g = _raw_post(e, grpc_headers)
    report("gRPC request", f"{g.status_line} {g.headers} body={g.body[:60]!r}")
    assert g.status == 200, f"gRPC abort must be HTTP 200 (status in grpc-status): {g!r}"
    assert g.header("grpc-status") == "14", f"grpc-status must be 14 (UNAVAILABLE): {g!r}"
    ctypes = [v for k, v in g.headers if k.lower() == "content-type"]
    assert ctypes == ["application/grpc"], f"want exactly one content-type application/grpc, got {ctypes}"
    assert g.body == b"", f"trailers-only gRPC answer has no body: {g.body[:100]!r}"

    p = _raw_post(e, "")
    report("plain HTTP request", f"{p.status_line} {p.headers} body={p.body[:60]!r}")
    assert p.status == 200, f"plain request under a gRPC abort: {p!r}"
    assert p.header("grpc-status") is None, f"Envoy sends no grpc-status to a non-gRPC request: {p!r}"
    assert "application/grpc" not in (p.header("content-type") or ""), f"not a gRPC answer: {p!r}"

    assert len(m.ups["v1"].requests) == before, "aborted requests must not reach the upstream"
    if m.dataplane == "weft":
        assert g.header(FLAG) == "FI", f"weft: {FLAG} should be FI: {g!r}"


# ---------------------------------------------------------------- 4. circuit breaking


def _burst(m, n: int, path: str, timeout: float = 8.0) -> list[tuple[int, float, dict]]:
    """n concurrent requests (own connection each, released together); (status, seconds, headers)."""
    out: list[tuple[int, float, dict] | None] = [None] * n
    gate = threading.Barrier(n)

    def one(i: int):
        with session() as s:
            gate.wait(5)
            t0 = time.monotonic()
            try:
                r = m.request("reviews", f"{path}?i={i}", sess=s, timeout=timeout)
                out[i] = (r.status_code, time.monotonic() - t0, {k.lower(): v for k, v in r.headers.items()})
            except Exception as ex:  # noqa: BLE001 - reported as status -1
                out[i] = (-1, time.monotonic() - t0, {"error": repr(ex)})

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 10)
    assert all(o is not None for o in out), f"burst threads did not finish: {out}"
    return out  # type: ignore[return-value]


def _clusters_text(e) -> str:
    r = e.admin("/clusters")
    r.raise_for_status()
    return r.text


_CB_POLICY = """
    connectionPool:
      tcp:
        maxConnections: 2
      http:
        http1MaxPendingRequests: 1
    """


def _wait_cluster_line(e, line: str, timeout: float = 10.0) -> None:
    seen: list[str] = []
    wait_until(lambda: seen.append(_clusters_text(e)) or line in seen[-1], timeout, 0.1,
               desc=lambda: f"admin /clusters showing {line!r}; last v1 lines:\n" + "\n".join(
                   ln for ln in (seen[-1] if seen else "").splitlines()
                   if ln.startswith(V1_CLUSTER + "::default_priority")))


def test_circuit_breaking_overflow(mesh, report):
    m = mesh
    ups = {v: m.upstream("reviews", v) for v in ("v1", "v2")}
    # The policy is in place before the proxy starts (see test_destination_rule_change_reaches_running_proxy).
    m.apply(docs(_reviews_entries(m, ups), destination_rule_with_policy("reviews", _CB_POLICY), route_all("v1")))
    e = m.start_envoy()
    m.wait_routing("reviews", "v1")
    _wait_cluster_line(e, f"{V1_CLUSTER}::default_priority::max_connections::2")

    # concurrency <= 2: sequential pairs never overflow
    pairs = []
    for _ in range(5):
        pairs += _burst(m, 2, "/delay/200")
    pair_codes = [c for c, _, _ in pairs]
    report("statuses of 5 sequential pairs of /delay/200", str(pair_codes))
    assert pair_codes == [200] * 10, f"2 concurrent requests must all pass maxConnections 2: {pairs}"

    # 10 concurrent 1 s requests: 2 connections + 1 pending pass, the rest overflow at once
    got = _burst(m, 10, "/delay/1000")
    codes = sorted(c for c, _, _ in got)
    ok = [g for g in got if g[0] == 200]
    over = [g for g in got if g[0] == 503]
    report("10 concurrent /delay/1000: 200s / 503s", f"{len(ok)} / {len(over)}")
    report("503 latencies (ms)", str(sorted(round(t * 1000, 1) for _, t, _ in over)))
    report("200 latencies (ms)", str(sorted(round(t * 1000, 1) for _, t, _ in ok)))
    assert len(ok) + len(over) == 10, f"only 200 and 503 expected: {got}"
    assert over, f"no request overflowed: {codes}"
    assert 2 <= len(ok) <= 3, f"want 2 (connections) .. 3 (+1 pending) successes, got {len(ok)}: {got}"
    slow_over = [g for g in over if g[1] >= 0.5]
    assert not slow_over, f"overflow 503s must come quickly (< 0.5 s): {slow_over}"
    for _, _, h in over:
        if m.dataplane == "weft":
            assert h.get(FLAG) == "UO", f"weft overflow 503 should carry {FLAG}: UO: {h}"
        else:
            assert h.get("x-envoy-overloaded") == "true", f"Envoy overflow 503 without x-envoy-overloaded: {h}"


# ---------------------------------------------------------------- 5. outlier detection


def test_destination_rule_change_reaches_running_proxy(reviews_mesh, report):
    """A connectionPool added to the DestinationRule of clusters a running proxy already has must take
    effect there (Envoy: the updated clusters warm until EDS for them is answered again)."""
    m = reviews_mesh
    e = m.envoys[0]
    m.apply(route_all("v1"))
    m.wait_routing("reviews", "v1")
    t0 = time.monotonic()
    m.apply(destination_rule_with_policy("reviews", _CB_POLICY))
    _wait_cluster_line(e, f"{V1_CLUSTER}::default_priority::max_connections::2")
    report("seconds until the running proxy shows max_connections 2", f"{time.monotonic() - t0:.2f}")
    assert m.wait_routing("reviews", "v1") < 5


def _outlier_mesh(m, concurrency: int = 1, nodelay: bool = False):
    """Two v1 endpoints (good, bad) under consecutive5xxErrors 3, one proxy, both endpoints receiving traffic."""
    good = m.upstream("reviews", "v1", nodelay=nodelay)
    bad = m.upstream("reviews", "v1", nodelay=nodelay)  # second v1 endpoint; made to fail by the test
    v2 = m.upstream("reviews", "v2")
    m.apply(docs(
        _reviews_entries(m, {"v1": good, "v1b": bad, "v2": v2}),
        destination_rule_with_policy("reviews", """
            outlierDetection:
              consecutive5xxErrors: 3
              interval: 1s
              baseEjectionTime: 30s
              maxEjectionPercent: 100
            """),
        route_all("v1"),
    ))
    e = m.start_envoy(concurrency=concurrency)
    m.wait_routing("reviews", "v1")
    wait_until(lambda: m.request("reviews", "/spread") and good.requests and bad.requests, 10, 0.0,
               desc=lambda: f"both v1 endpoints receiving (good {len(good.requests)}, bad {len(bad.requests)})")
    return good, bad, e


def test_outlier_detection_ejects_failing_endpoint(mesh, report):
    m = mesh
    good, bad, e = _outlier_mesh(m)
    bad_addr = f"{m.host}:{bad.port}"
    assert "failed_outlier_check" not in "".join(
        ln for ln in _clusters_text(e).splitlines() if bad_addr in ln), "ejected before failing"

    bad.fail_status = 500
    statuses: list[int] = []
    streak = 0
    deadline = time.monotonic() + 20
    with session() as s:
        while streak < 50 and len(statuses) < 400 and time.monotonic() < deadline:
            r = m.request("reviews", f"/od/{len(statuses)}", sess=s)
            statuses.append(r.status_code)
            streak = streak + 1 if r.status_code == 200 else 0
    errors = [i for i, c in enumerate(statuses) if c != 200]
    report("requests until 50 x 200 in a row", str(len(statuses)))
    report("errors before ejection (count, request indices, codes)",
           f"{len(errors)}, {errors}, {sorted({statuses[i] for i in errors})}")
    assert streak >= 50, (f"no 50 successes in a row after {len(statuses)} requests; "
                          f"errors at {errors[-20:]}")
    start = len(statuses) - 50
    late = [q["path"] for q in bad.requests if q["path"].startswith("/od/") and int(q["path"][4:]) >= start]
    assert not late, f"the failing endpoint still got requests after its ejection: {late}"
    assert 1 <= len(errors) <= 10, f"errors before ejection: {len(errors)}"

    lines = [ln for ln in _clusters_text(e).splitlines() if bad_addr in ln and "health_flags" in ln]
    report("admin /clusters for the bad endpoint", str(lines))
    assert any("failed_outlier_check" in ln for ln in lines), f"no failed_outlier_check: {lines}"
    good_lines = [ln for ln in _clusters_text(e).splitlines()
                  if f"{m.host}:{good.port}" in ln and "health_flags" in ln]
    assert good_lines and not any("failed_outlier_check" in ln for ln in good_lines), good_lines
    if m.dataplane == "weft":
        text = e.admin("/stats/prometheus").text
        active = [ln for ln in text.splitlines() if ln.startswith("weft_cluster_outlier_detection_ejections_active")]
        report("weft ejections_active", str(active))
        assert any(float(ln.split()[-1]) > 0 for ln in active), f"ejections_active not > 0: {active}"


# ---------------------------------------------------------------- 5b. several workers: per cluster, not per worker

WORKERS = 4


def test_circuit_breaking_counts_across_workers(mesh, report):
    """maxConnections 2 + 1 pending hold for the whole proxy, not per worker: with 4 workers, 24 concurrent
    requests (one connection each, spread over the workers) get at most 2 + 1 through, plus at most one
    connection for each other worker whose pool had none (Envoy opens one anyway, so a queued request always
    has a connection to wait for). Limits per worker would let 4 x 3 = 12 through."""
    m = mesh
    ups = {v: m.upstream("reviews", v) for v in ("v1", "v2")}
    m.apply(docs(_reviews_entries(m, ups), destination_rule_with_policy("reviews", _CB_POLICY), route_all("v1")))
    e = m.start_envoy(concurrency=WORKERS)
    m.wait_routing("reviews", "v1")
    _wait_cluster_line(e, f"{V1_CLUSTER}::default_priority::max_connections::2")
    before = len(ups["v1"].requests)
    got = _burst(m, 24, "/delay/1000")
    ok = [g for g in got if g[0] == 200]
    over = [g for g in got if g[0] == 503]
    report(f"24 concurrent /delay/1000 through {WORKERS} workers: 200s / 503s", f"{len(ok)} / {len(over)}")
    assert len(ok) + len(over) == 24, f"only 200 and 503 expected: {got}"
    most = 2 + 1 + (WORKERS - 1)
    assert 2 <= len(ok) <= most, f"want 2 .. {most} successes across {WORKERS} workers, got {len(ok)}: {got}"
    assert len(ups["v1"].requests) - before == len(ok), "an overflowed request reached the upstream"


def test_outlier_detection_counts_errors_across_workers(mesh, report):
    """consecutive5xxErrors: 3 counts the endpoint's errors over every worker: with 4 workers and every
    request on a new connection (spread over the workers), the failing endpoint is ejected after about 3
    errors, not 3 per worker (12)."""
    m = mesh
    good, bad, e = _outlier_mesh(m, concurrency=WORKERS, nodelay=True)
    bad.fail_status = 500
    statuses: list[int] = []
    streak = 0
    deadline = time.monotonic() + 30
    while streak < 40 and len(statuses) < 300 and time.monotonic() < deadline:
        with session() as s:  # a new connection each time: the proxy hands connections to its workers in turn
            statuses.append(m.request("reviews", f"/odw/{len(statuses)}", sess=s).status_code)
        streak = streak + 1 if statuses[-1] == 200 else 0
    errors = [i for i, c in enumerate(statuses) if c != 200]
    report(f"errors before ejection with {WORKERS} workers (count, request indices)", f"{len(errors)}, {errors}")
    assert streak >= 40, f"no 40 successes in a row after {len(statuses)} requests; errors at {errors[-20:]}"
    # 3 errors eject it; Envoy decides on its main thread, so one or two more may slip through meanwhile.
    assert 3 <= len(errors) <= 5, f"want about 3 errors before the ejection (not 3 per worker): {errors}"
    lines = [ln for ln in _clusters_text(e).splitlines() if f"{m.host}:{bad.port}" in ln and "health_flags" in ln]
    assert any("failed_outlier_check" in ln for ln in lines), f"no failed_outlier_check: {lines}"


# ---------------------------------------------------------------- 6. invalid values refused


_BAD_INPUTS = {
    "negative-fault-percentage": (
        virtual_service("""
            - fault:
                abort:
                  httpStatus: 503
                  percentage:
                    value: -5
              route:
              - destination:
                  host: reviews
                  subset: v1
            """),
        "spec.http[0].fault.abort.percentage.value"),
    "zero-base-ejection-time": (
        destination_rule_with_policy("reviews", """
            outlierDetection:
              consecutive5xxErrors: 3
              baseEjectionTime: 0s
            """),
        "spec.trafficPolicy.outlierDetection.baseEjectionTime"),
    "locality-empty-segment": (
        workload_entry("reviews-v1", "127.0.0.1", 9999, {"app": "reviews", "version": "v1"})
        + "  locality: us-east1//rack1\n",
        "spec.locality"),
    "max-ejection-percent-150": (
        destination_rule_with_policy("reviews", """
            outlierDetection:
              consecutive5xxErrors: 3
              maxEjectionPercent: 150
            """),
        "spec.trafficPolicy.outlierDetection.maxEjectionPercent"),
}


@pytest.mark.parametrize("case", list(_BAD_INPUTS))
def test_invalid_resilience_values_refused(mesh, case):
    m = mesh
    m.reviews()
    m.apply(route_all("v1"))
    before = m.resources()
    text, field = _BAD_INPUTS[case]
    cp = m.apply(text, check=False)
    assert cp.returncode == 1, f"weft apply of {case}: exit {cp.returncode}\n{cp.stdout}\n{cp.stderr}"
    assert field in cp.stderr, f"stderr does not name {field}:\n{cp.stderr}"
    assert m.resources() == before, "a refused apply changed the stored resources"


# ---------------------------------------------------------------- 7. retries on 5xx


def test_retry_on_5xx_attempts(reviews_mesh, report):
    m = reviews_mesh
    m.apply(virtual_service("""
        - match:
          - uri:
              prefix: /flaky/two/
          retries:
            attempts: 2
            perTryTimeout: 2s
            retryOn: 5xx
          route:
          - destination:
              host: reviews
              subset: v1
        - match:
          - uri:
              prefix: /flaky/one/
          retries:
            attempts: 1
            perTryTimeout: 2s
            retryOn: 5xx
          route:
          - destination:
              host: reviews
              subset: v1
        - route:
          - destination:
              host: reviews
              subset: v1
        """))
    m.wait_routing("reviews", "v1", path="/plain")
    up = m.ups["v1"]

    def hits(prefix: str) -> int:
        return sum(1 for q in up.requests if q["path"].startswith(prefix))

    r = m.request("reviews", "/flaky/two/2", timeout=10)
    n2 = hits("/flaky/two/")
    report("attempts 2 on /flaky/KEY/2: status, upstream hits", f"{r.status_code}, {n2}")
    assert version_of(r) == "v1", f"2 retries should reach the 3rd (good) attempt: {r.status_code} {r.text[:200]}"
    assert n2 == 3, f"upstream saw {n2} attempts, want 3"

    r = m.request("reviews", "/flaky/one/2", timeout=10)
    n1 = hits("/flaky/one/")
    report("attempts 1 on /flaky/KEY/2: status, upstream hits, flags",
           f"{r.status_code}, {n1}, {r.headers.get(FLAG)}")
    assert r.status_code == 503, f"1 retry of 2 failures must end in 503: {r.status_code} {r.text[:200]}"
    assert n1 == 2, f"upstream saw {n1} attempts, want 2"
    # the caller gets the upstream's own last 503 (Envoy passes it through)
    assert r.json().get("version") == "v1", f"the 503 should be the upstream's answer: {r.text[:200]}"


def test_per_try_timeout_retries_a_slow_try(reviews_mesh, report):
    """A try slower than perTryTimeout is abandoned and retried; the route timeout bounds the whole request."""
    m = reviews_mesh
    m.apply(virtual_service("""
        - route:
          - destination:
              host: reviews
              subset: v1
          timeout: 5s
          retries:
            attempts: 1
            perTryTimeout: 300ms
            retryOn: 5xx
        """))
    m.wait_routing("reviews", "v1")
    before = sum(1 for q in m.ups["v1"].requests if q["path"].startswith("/slow-once/pt/"))
    t0 = time.monotonic()
    r = m.request("reviews", "/slow-once/pt/3000", timeout=10)
    took = time.monotonic() - t0
    assert r.status_code == 200 and version_of(r) == "v1", f"{r.status_code} {r.text[:200]}"
    assert took < 2.0, f"the slow try should have been abandoned after 300 ms, took {took:.2f}s"

    # The upstream records a request when it answers, so the abandoned slow try shows up after its 3 s.
    def hits():
        return sum(1 for q in m.ups["v1"].requests if q["path"].startswith("/slow-once/pt/")) - before
    wait_until(lambda: hits() >= 2, 6, desc="the slow try and the retry both reached the upstream")
    report("per-try timeout 300 ms, first try 3 s: answer after (s), upstream tries", f"{took:.2f}, {hits()}")
    assert hits() == 2, f"want the slow try and one retry, upstream saw {hits()}"


def test_cookie_affinity_generates_a_cookie_and_sticks(mesh, report):
    """consistentHash on a cookie with a TTL: a caller without the cookie gets one, and with it always lands on
    the same endpoint of the subset."""
    m = mesh
    a = m.upstream("reviews", "v1")
    b = m.upstream("reviews", "v1")
    m.apply(docs(
        _reviews_entries(m, {"v1": a, "v1b": b}),
        destination_rule_with_policy("reviews", """
            loadBalancer:
              consistentHash:
                httpCookie:
                  name: user
                  ttl: 60s
            """, versions=("v1",)),
        virtual_service("""
        - route:
          - destination:
              host: reviews
              subset: v1
        """),
    ))
    m.start_envoy()
    m.wait_routing("reviews", "v1")
    r = m.request("reviews", "/affinity/first")
    cookie = r.headers.get("set-cookie", "")
    assert cookie.startswith("user="), f"want a generated affinity cookie, got {r.headers!r}"
    value = cookie.split(";", 1)[0].split("=", 1)[1].strip('"')
    before = (len(a.requests), len(b.requests))
    for i in range(20):
        r = m.request("reviews", f"/affinity/{i}", headers={"cookie": f'user="{value}"'})
        assert r.status_code == 200, r.text[:200]
        assert "set-cookie" not in {k.lower() for k in r.headers}, "a caller with the cookie gets no new one"
    got = (len(a.requests) - before[0], len(b.requests) - before[1])
    report("20 requests with the affinity cookie, per endpoint", f"{got[0]} / {got[1]}")
    assert sorted(got) == [0, 20], f"all requests with one cookie must reach one endpoint, got {got}"
