"""Active health checks (the health.weft.dev/ annotations of a DestinationRule), on both data planes:
HTTP probes (a killed endpoint, and an endpoint that serves traffic but fails its probe path), TCP
probes, gRPC probes (grpc.health.v1.Health/Check), and the validation of the annotations."""

from __future__ import annotations

import socket
import time
from collections import Counter

import grpc
import pytest

from grpc_echo import NOT_SERVING, SERVICE, SERVING, UNARY, GrpcEcho, channel
from helpers import (
    assert_no_nack,
    cluster_lines, destination_rule_annotated, docs, free_port, health_annotations, host_health_flags,
    service_entry, service_entry_ports, session, virtual_service, wait_until, workload_entry,
    workload_entry_ports,
)
from upstream import TcpEcho

REVIEWS = "reviews.default.svc.cluster.local"
CLUSTER = f"outbound|9080||{REVIEWS}"
FAILED = "failed_active_hc"

# All traffic to the host's endpoints, no retries: a request sent to a dead endpoint would show as an error.
NO_RETRY_VS = virtual_service("""
    - route:
      - destination:
          host: reviews
      retries:
        attempts: 0
    """)


def _entries(m, ports: dict[str, int]) -> str:
    """ServiceEntry reviews + one WorkloadEntry per {version: port} (labels app: reviews, version)."""
    return docs(service_entry("reviews"), *(
        workload_entry(f"reviews-{v}", m.host, p, {"app": "reviews", "version": v}) for v, p in ports.items()))


def _versions(m, n: int, path: str = "/hc") -> Counter:
    """n requests over one keep-alive connection: Counter of answering versions ('HTTP 503'...)."""
    return m.sample("reviews", n, path=path)


def _wait_flag(e, cluster: str, addr: str, failed: bool, timeout: float = 10.0) -> float:
    """Poll e's admin /clusters (no traffic) until addr is (failed=True) or is no longer (False)
    marked failed_active_hc; return the seconds it took."""
    t0 = time.monotonic()

    def check():
        flags = host_health_flags(e, cluster, addr)
        return flags is not None and ((FAILED in flags) == failed)

    wait_until(check, timeout, 0.05,
               desc=lambda: f"{addr} {'marked' if failed else 'no longer marked'} {FAILED} in {cluster}; "
                            f"lines: {cluster_lines(e, cluster)}")
    return time.monotonic() - t0




def _wait_both(m, names: set[str], timeout: float = 15.0) -> None:
    seen: Counter = Counter()

    def both():
        c = _versions(m, 10, "/warm")
        seen.clear()
        seen.update(c)
        return set(c) == names

    wait_until(both, timeout, 0.05, desc=lambda: f"both of {sorted(names)} answering; last: {dict(seen)}")


# ---------------------------------------------------------------- (a) HTTP: a killed endpoint


def test_http_killed_endpoint_leaves_rotation_before_traffic(mesh, report):
    """A killed endpoint leaves rotation through its failing health check before any client request
    hits it; restarted on the same port, it comes back."""
    m = mesh
    a = m.upstream_process("reviews", "a")
    b = m.upstream_process("reviews", "b")
    m.apply(docs(_entries(m, {"a": a.port, "b": b.port}),
                 destination_rule_annotated("reviews", health_annotations("http", "500ms", "250ms")),
                 NO_RETRY_VS))
    e = m.start_envoy()
    _wait_both(m, {"a", "b"})
    a_addr, b_addr = f"{m.host}:{a.port}", f"{m.host}:{b.port}"
    _wait_flag(e, CLUSTER, a_addr, failed=False)
    _wait_flag(e, CLUSTER, b_addr, failed=False)

    a.kill()  # SIGKILL; from here on no traffic until the admin shows the failed check
    took = _wait_flag(e, CLUSTER, a_addr, failed=True, timeout=10)
    report("seconds from SIGKILL to failed_active_hc (interval 500ms, unhealthy-threshold 2)", f"{took:.2f}")
    assert took < 5, f"the failed check took {took:.2f}s with a 500 ms interval"
    assert FAILED not in (host_health_flags(e, CLUSTER, b_addr) or ""), cluster_lines(e, CLUSTER)

    after = Counter()
    for i in range(20):  # fresh connection each: no pooled state helps
        r = m.request("reviews", f"/after-kill/{i}", timeout=3)
        after[r.json()["version"] if r.status_code == 200 else f"HTTP {r.status_code}"] += 1
    report("20 requests after the failed check", str(dict(after)))
    assert after == {"b": 20}, f"every request must go to the survivor b: {dict(after)}"

    a.restart()  # same port
    back = _wait_flag(e, CLUSTER, a_addr, failed=False, timeout=10)
    report("seconds from restart to healthy again", f"{back:.2f}")
    _wait_both(m, {"a", "b"}, timeout=10)
    final = _versions(m, 40, "/after-restart")
    assert set(final) == {"a", "b"} and sum(final.values()) == 40, f"both must answer again: {dict(final)}"
    assert_no_nack(m)


# ---------------------------------------------------------------- (b) HTTP: the probe path


def test_http_probe_path_failing_takes_serving_endpoint_out(mesh, report):
    """The probe really goes to health.weft.dev/path with the service host as Host: an endpoint that still
    answers traffic but fails that path leaves rotation, and returns when the path passes again."""
    m = mesh
    a = m.upstream("reviews", "a")
    b = m.upstream("reviews", "b")
    for u in (a, b):
        u.health_path = "/health/ready"
    m.apply(docs(_entries(m, {"a": a.port, "b": b.port}),
                 destination_rule_annotated("reviews", health_annotations("http", "500ms", "250ms",
                                                                          path="/health/ready")),
                 NO_RETRY_VS))
    e = m.start_envoy()
    _wait_both(m, {"a", "b"})
    a_addr = f"{m.host}:{a.port}"
    _wait_flag(e, CLUSTER, a_addr, failed=False)

    probes = a.health_requests + b.health_requests
    assert a.health_requests and b.health_requests, "both endpoints must be probed"
    assert {q["path"] for q in probes} == {"/health/ready"}, {q["path"] for q in probes}
    hosts = {q["headers"].get("host") for q in probes}
    report("Host header of the probes", str(hosts))
    assert hosts == {REVIEWS}, f"probes must carry Host: {REVIEWS}, got {hosts}"
    assert not any(q["path"] == "/health/ready" for q in a.requests + b.requests)

    # Without traffic, probes come at the interval (no_traffic_interval = interval), not Envoy's 60 s.
    n0, t0 = len(a.health_requests), time.monotonic()
    time.sleep(2.0)
    rate = (len(a.health_requests) - n0) / (time.monotonic() - t0)
    report("probes per second to one endpoint without traffic (interval 500ms)", f"{rate:.2f}")
    assert 1.0 <= rate <= 4.0, f"want ~2 probes/s at a 500 ms interval, got {rate:.2f}/s"

    a.health_status = 503
    took = _wait_flag(e, CLUSTER, a_addr, failed=True, timeout=10)
    report("seconds from /health/ready 503 to failed_active_hc", f"{took:.2f}")
    with session() as s:  # a itself still serves traffic
        direct = s.get(f"http://{a_addr}/direct", timeout=3)
    assert direct.status_code == 200 and direct.json()["version"] == "a", direct.text[:200]
    before = len(a.requests)
    got = _versions(m, 20, "/probe-failing")
    report("20 requests while a fails its probe", str(dict(got)))
    assert got == {"b": 20}, f"all requests must go to b: {dict(got)}"
    assert len(a.requests) == before, "no proxied request may reach a while it fails its probe"

    a.health_status = 200
    _wait_flag(e, CLUSTER, a_addr, failed=False, timeout=10)
    _wait_both(m, {"a", "b"}, timeout=10)
    assert_no_nack(m)

    # Without health.weft.dev/path the probes go to /healthz.
    for u in (a, b):
        u.health_path = "/healthz"
    n0 = len(a.health_requests)
    m.apply(destination_rule_annotated("reviews", health_annotations("http", "500ms", "250ms")))
    wait_until(lambda: len(a.health_requests) >= n0 + 2, 10, 0.05,
               desc=lambda: f"probes at /healthz after the path annotation was dropped; old-path requests: "
                            f"{sum(1 for q in a.requests if q['path'] == '/health/ready')}")
    assert {q["path"] for q in a.health_requests[n0:]} == {"/healthz"}
    _wait_both(m, {"a", "b"}, timeout=10)


# ---------------------------------------------------------------- (c) TCP probe


def _tcp_echo(host: str, port: int, msg: bytes, timeout: float = 3.0) -> bytes:
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(msg)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            data = s.recv(65536)
            if not data:
                return out
            out += data


def test_tcp_probe_killed_endpoint_leaves_rotation(mesh, report):
    m = mesh
    a = TcpEcho(m.host).start()
    b = TcpEcho(m.host).start()
    a2: TcpEcho | None = None
    try:
        svc_port = free_port(m.host)
        cluster = f"outbound|{svc_port}||tcp-echo.default.svc.cluster.local"
        m.apply(docs(
            service_entry_ports("tcp-echo", [(svc_port, "tcp", "TCP")]),
            workload_entry_ports("tcp-echo-a", m.host, {"tcp": a.port}, {"app": "tcp-echo"}),
            workload_entry_ports("tcp-echo-b", m.host, {"tcp": b.port}, {"app": "tcp-echo"}),
            destination_rule_annotated("tcp-echo", health_annotations("tcp", "500ms", "250ms")),
        ))
        e = m.start_envoy()
        wait_until(lambda: _tcp_echo(m.host, svc_port, b"ping", 1.0) == b"ping", 15, 0.1,
                   desc=f"TCP echo through {m.dataplane} at {m.host}:{svc_port}")
        a_addr = f"{m.host}:{a.port}"
        _wait_flag(e, cluster, a_addr, failed=False)
        wait_until(lambda: _tcp_echo(m.host, svc_port, b"spread", 1.0) and a.served and b.served, 10, 0.0,
                   desc=lambda: f"both echo servers used (a {a.served}, b {b.served})")
        assert a.accepted > a.served, f"a connect-only probe should have reached a ({a.accepted} accepted, {a.served} served)"
    
        port = a.port
        a.stop()  # the listener is gone: connections to it are refused
        took = _wait_flag(e, cluster, a_addr, failed=True)
        report("seconds from stop to failed_active_hc (TCP probe)", f"{took:.2f}")
        b0 = b.served
        results = [_tcp_echo(m.host, svc_port, f"after {i}".encode()) for i in range(20)]
        assert results == [f"after {i}".encode() for i in range(20)], f"echoes after the failed check: {results}"
        assert b.served - b0 == 20, f"b served {b.served - b0} of 20 connections"

        a2 = TcpEcho(m.host, port).start()
        _wait_flag(e, cluster, a_addr, failed=False)
        wait_until(lambda: _tcp_echo(m.host, svc_port, b"back", 1.0) == b"back" and a2.served > 0, 10, 0.0,
                   desc=lambda: f"restarted a serving again (served {a2.served})")
        assert_no_nack(m)
    finally:
        for s in (a, b, a2):
            if s is not None:
                s.stop()


# ---------------------------------------------------------------- (d) gRPC probe


def test_grpc_probe_not_serving_leaves_rotation(mesh, report):
    m = mesh
    a = GrpcEcho(m.host).start()
    b = GrpcEcho(m.host).start()
    ch = None
    try:
        cluster = f"outbound|50051||echo.default.svc.cluster.local"
        m.apply(docs(
            service_entry_ports("echo", [(50051, "grpc", "GRPC")]),
            workload_entry_ports("echo-a", m.host, {"grpc": a.port}, {"app": "echo"}),
            workload_entry_ports("echo-b", m.host, {"grpc": b.port}, {"app": "echo"}),
            destination_rule_annotated("echo", health_annotations("grpc", "500ms", "250ms", grpc_service=SERVICE)),
        ))
        e = m.start_envoy()
        ch = channel(e.outbound, authority="echo:50051")
        unary = ch.unary_unary(UNARY)
        wait_until(lambda: unary(b"warm-up", timeout=2) == b"warm-up" and a.unary_calls and b.unary_calls,
                   15, 0.02, desc=lambda: f"gRPC calls reaching both servers (a {a.unary_calls}, b {b.unary_calls})")
        a_addr = f"{m.host}:{a.port}"
        _wait_flag(e, cluster, a_addr, failed=False)
        asked = set(a.health_checks) | set(b.health_checks)
        report("services asked about by the gRPC probes", str(asked))
        assert a.health_checks and b.health_checks, "both servers must be probed"
        assert asked == {SERVICE}, f"probes must ask about {SERVICE!r} (health.weft.dev/grpc-service), got {asked}"
    
        a.set_health(SERVICE, NOT_SERVING)  # "" stays SERVING: only the named service counts
        took = _wait_flag(e, cluster, a_addr, failed=True)
        report("seconds from NOT_SERVING to failed_active_hc", f"{took:.2f}")
        a0, b0 = a.unary_calls, b.unary_calls
        for i in range(20):
            resp, call = unary.with_call(f"call {i}".encode(), timeout=5)
            assert resp == f"call {i}".encode() and call.code() == grpc.StatusCode.OK
        report("20 calls while a is NOT_SERVING (a, b)", f"{a.unary_calls - a0}, {b.unary_calls - b0}")
        assert (a.unary_calls - a0, b.unary_calls - b0) == (0, 20), "every call must go to b"

        a.set_health(SERVICE, SERVING)
        _wait_flag(e, cluster, a_addr, failed=False)
        a1 = a.unary_calls
        wait_until(lambda: unary(b"again", timeout=2) == b"again" and a.unary_calls > a1, 10, 0.0,
                   desc="a answering calls again")
        assert_no_nack(m)
    finally:
        if ch is not None:
            ch.close()
        a.stop()
        b.stop()


# ---------------------------------------------------------------- invalid annotations refused


_BAD_HEALTH = {
    "interval-not-a-duration": (health_annotations("http", interval="fast"),
                                'metadata.annotations["health.weft.dev/interval"]'),
    "type-udp": (health_annotations("udp"), 'metadata.annotations["health.weft.dev/type"]'),
    "timeout-longer-than-interval": (health_annotations("http", interval="500ms", timeout="2s"),
                                     'metadata.annotations["health.weft.dev/timeout"]'),
    "threshold-zero": (health_annotations("http", unhealthy=0),
                       'metadata.annotations["health.weft.dev/unhealthy-threshold"]'),
    "path-on-tcp": (health_annotations("tcp", path="/healthz"), 'metadata.annotations["health.weft.dev/path"]'),
}


@pytest.mark.parametrize("case", list(_BAD_HEALTH))
def test_invalid_health_annotations_refused(mesh, case):
    m = mesh
    m.reviews()
    before = m.resources()
    annotations, field = _BAD_HEALTH[case]
    cp = m.apply(destination_rule_annotated("reviews", annotations, versions=("v1", "v2")), check=False)
    assert cp.returncode == 1, f"weft apply of {case}: exit {cp.returncode}\n{cp.stdout}\n{cp.stderr}"
    assert field in cp.stderr, f"stderr does not name {field}:\n{cp.stderr}"
    assert m.resources() == before, "a refused apply changed the stored resources"
