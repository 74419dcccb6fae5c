"""Hostile and broken peers: malformed requests, header floods, slow clients, dead upstreams,
a control plane killed under traffic, and (weft proxy) a graceful stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

import pytest
import requests

from helpers import (
    RawConn, RawResponse, can_connect, docs, downstream_cx_active, free_port, raw_exchange, route_all,
    service_entry_ports, version_of, wait_until, workload_entry_ports,
)

FLAG = "x-weft-response-flags"


class Reply:
    """What the tests need of a response. A requests.Response keeps its socket open until it is
    garbage collected, which the connection-leak checks would count, so none is kept."""

    def __init__(self, r: requests.Response):
        self.status_code = r.status_code
        self.headers = {k.lower(): v for k, v in r.headers.items()}
        self.text = r.text
        self.version = version_of(r)


def _get(e, host: str, path: str, timeout: float = 3.0) -> Reply:
    r = e.request(host, path, timeout=timeout)
    try:
        return Reply(r)
    finally:
        r.close()


def _baseline(e) -> int:
    """Downstream connections open on the outbound listener once idle (normally 0)."""
    return wait_until(lambda: (downstream_cx_active(e),), 5, 0.05, desc="admin stats readable")[0]


def _assert_healthy(m, e, baseline: int) -> None:
    """The proxy still runs, still routes, and holds no more connections than before."""
    assert e.proc.alive(), f"{m.dataplane} exited with code {e.proc.popen.returncode}"
    r = _get(e, "reviews", "/after")
    assert r.version in ("v1", "v2"), f"normal request after the abuse -> {r.status_code} {r.text[:300]}"
    seen: list[int] = []

    def back_to_baseline():
        seen.append(downstream_cx_active(e))
        return seen[-1] <= baseline

    wait_until(back_to_baseline, 5, 0.1,
               desc=lambda: f"downstream_cx_active back to {baseline} (last values {seen[-5:]})")


def _flags(r) -> str | None:
    if isinstance(r, RawResponse):
        return r.header(FLAG)
    return r.headers.get(FLAG.lower())


# ---------------------------------------------------------------- malformed requests


def test_bad_request_line(reviews_mesh):
    m = reviews_mesh
    e = m.envoys[0]
    base = _baseline(e)
    with RawConn(e.host, e.outbound_port) as c:
        c.send(b"GARBAGE\r\n\r\n")
        r = c.response()
        assert r.status == 400, f"GARBAGE request line -> {r!r}"
        assert c.closed_by_peer(3.0), "connection left open after a 400 for a bad request line"
    _assert_healthy(m, e, base)


def test_content_length_and_transfer_encoding(reviews_mesh):
    m = reviews_mesh
    e = m.envoys[0]
    base = _baseline(e)
    ups_before = sum(len(u.requests) for u in m.ups.values())
    r = raw_exchange(e.host, e.outbound_port,
                     b"POST /smuggle HTTP/1.1\r\nHost: reviews\r\nContent-Length: 30\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: reviews\r\n\r\n")
    if m.dataplane == "weft" or isinstance(r, RawResponse):
        assert isinstance(r, RawResponse) and r.status == 400, (
            f"Content-Length + Transfer-Encoding -> {r!r} (want 400)")
    paths = [q["path"] for u in m.ups.values() for q in u.requests[ups_before:]]
    assert "/smuggle" not in paths and "/smuggled" not in paths, f"ambiguous request reached the upstream: {paths}"
    _assert_healthy(m, e, base)


def test_header_flood(reviews_mesh):
    m = reviews_mesh
    e = m.envoys[0]
    base = _baseline(e)
    # 200 KiB of headers in one request (50 headers of 4 KiB).
    flood = b"".join(b"X-Flood-%d: %s\r\n" % (i, b"a" * 4096) for i in range(50))
    r = raw_exchange(e.host, e.outbound_port, b"GET / HTTP/1.1\r\nHost: reviews\r\n" + flood + b"\r\n")
    assert isinstance(r, RawResponse) and r.status == 431, f"200 KiB of headers -> {r!r} (want 431)"

    # 1000 small headers: refused one way or another, and nothing breaks.
    many = b"".join(b"X-H-%d: v\r\n" % i for i in range(1000))
    r = raw_exchange(e.host, e.outbound_port, b"GET / HTTP/1.1\r\nHost: reviews\r\n" + many + b"\r\n")
    assert isinstance(r, RawResponse) and r.status in (400, 431), f"1000 headers -> {r!r} (want 431 or 400)"
    _assert_healthy(m, e, base)


def test_slowloris_does_not_starve_others(reviews_mesh, report):
    m = reviews_mesh
    e = m.envoys[0]
    base = _baseline(e)
    slow: list[socket.socket] = []
    for _ in range(20):
        s = socket.create_connection((e.host, e.outbound_port), timeout=2)
        s.sendall(b"GET /slow HTTP/1.1\r\nHost: reviews\r\n")
        slow.append(s)
    stop = threading.Event()

    def drip():
        i = 0
        deadline = time.monotonic() + 15
        while not stop.is_set() and time.monotonic() < deadline:
            for s in slow:
                try:
                    s.sendall(b"X-Slow-%d: x\r\n" % i)
                except OSError:
                    pass
            i += 1
            stop.wait(0.2)

    t = threading.Thread(target=drip, name="slowloris", daemon=True)
    t.start()
    try:
        wait_until(lambda: downstream_cx_active(e) >= base + 20, 5, 0.05,
                   desc="the 20 slow connections accepted by the proxy")
        worst = 0.0
        for i in range(10):
            t0 = time.monotonic()
            r = _get(e, "reviews", f"/normal/{i}")
            took = time.monotonic() - t0
            worst = max(worst, took)
            assert r.version in ("v1", "v2"), f"normal request {i} during slowloris -> {r.status_code}"
            assert took < 1.0, f"normal request {i} took {took:.2f}s while 20 slow clients dripped headers"
            time.sleep(0.1)
        report("slowest normal request during slowloris (s)", f"{worst:.3f}")
    finally:
        stop.set()
        t.join(5)
        for s in slow:
            s.close()
    _assert_healthy(m, e, base)


def test_unknown_host_is_404(reviews_mesh):
    m = reviews_mesh
    e = m.envoys[0]
    base = _baseline(e)
    r = _get(e, "nowhere.example", "/some/path")
    assert r.status_code == 404, f"unknown host -> {r.status_code} {r.text[:300]}"
    if m.dataplane == "weft":
        assert _flags(r) == "NR", f"{FLAG}: {_flags(r)!r} (want NR)"
        assert "nowhere.example" in r.text and "/some/path" in r.text, f"404 body: {r.text[:300]!r}"
    _assert_healthy(m, e, base)


def test_upstream_down_is_503(reviews_mesh):
    m = reviews_mesh
    e = m.envoys[0]
    base = _baseline(e)
    closed = free_port(m.host)  # nothing listens here
    m.apply(docs(
        service_entry_ports("down", [(9080, "http", "HTTP")]),
        workload_entry_ports("down-1", m.host, {"http": closed}, {"app": "down"}),
    ))
    # The proxy has the new service with its endpoint (not an intermediate state where the cluster has come
    # and its endpoints not yet): then a request must fail to connect.
    m.wait_synced()
    r = _get(e, "down", "/x", timeout=5)
    assert r.status_code == 503, f"{r.status_code} {_flags(r)} {r.text[:200]!r}"
    if m.dataplane == "weft":
        assert _flags(r) == "UF", f"{FLAG}: {_flags(r)!r} (want UF); body {r.text[:200]!r}"
    _assert_healthy(m, e, base)


# ---------------------------------------------------------------- control plane failure


def test_control_plane_killed_mid_traffic(reviews_mesh, report):
    m = reviews_mesh
    e = m.envoys[0]
    m.apply(route_all("v1"))
    m.wait_routing("reviews", "v1")

    results: list[tuple[float, str]] = []  # (sent at, version or error)
    stop = threading.Event()

    def send_forever():
        deadline = time.monotonic() + 40  # bounded even if the test dies
        while not stop.is_set() and time.monotonic() < deadline:
            t0 = time.monotonic()
            try:
                label = version_of(e.request("reviews", "/cp-kill", timeout=2))
            except requests.RequestException as ex:
                label = f"error {type(ex).__name__}: {ex}"
            results.append((t0, label))
            stop.wait(0.01)

    sender = threading.Thread(target=send_forever, name="cp-kill-traffic", daemon=True)
    sender.start()
    try:
        wait_until(lambda: len(results) >= 10, 5, 0.02, desc="traffic flowing")
        killed_at = time.monotonic()
        m.cp.proc.kill()  # SIGKILL
        time.sleep(2.0)  # the window under test: 2 s of traffic with no control plane
        window = [label for t, label in results if t >= killed_at]
        bad = [label for label in window if label != "v1"]
        assert len(window) >= 10, f"only {len(window)} requests sent in the 2 s after the kill"
        assert not bad, f"{len(bad)} of {len(window)} requests failed with the control plane dead: {bad[:5]}"
        report("requests during the 2 s without control plane", str(len(window)))

        restarted_at = time.monotonic()
        m.start_control_plane()
        m.apply(route_all("v2"))
        took = m.wait_routing("reviews", "v2", timeout=10)
        report("seconds from restart+apply to v2 routing", f"{took:.2f}")
        assert took <= 6.0, f"routing followed the new route only after {took:.1f}s (want ~5 s)"
    finally:
        stop.set()
        sender.join(5)
    after = [label for t, label in results if t >= restarted_at]
    bad = [label for label in after if label not in ("v1", "v2")]
    assert not bad, f"{len(bad)} of {len(after)} requests failed while the control plane restarted: {bad[:5]}"
    assert e.proc.alive()


# ---------------------------------------------------------------- graceful stop


@pytest.mark.weft_only
def test_graceful_stop_on_sigterm(reviews_mesh):
    m = reviews_mesh
    assert m.dataplane == "weft"
    # A drain window longer than the slow request (the fixture's default is 1 s).
    e = m.start_envoy(extra_args=["--drain-seconds", "5"])
    result: dict = {}

    def slow():
        t0 = time.monotonic()
        try:
            r = e.request("reviews", "/delay/1500", timeout=10)
            result["status"] = r.status_code
            result["body"] = r.text[:200]
        except requests.RequestException as ex:
            result["error"] = f"{type(ex).__name__}: {ex}"
        result["took"] = time.monotonic() - t0

    t = threading.Thread(target=slow, name="slow-request", daemon=True)
    t.start()
    wait_until(lambda: any(q["path"] == "/delay/1500" for u in m.ups.values() for q in u.requests), 3, 0.01,
               desc="the slow request reached the upstream")
    # The upstream holds it for 1.5 s from here: SIGTERM lands while the request is in flight.
    e.proc.stopped_on_purpose = True
    sigterm_at = time.monotonic()
    os.kill(e.pid, signal.SIGTERM)

    wait_until(lambda: not can_connect(e.host, e.outbound_port, 0.2), 1.0, 0.02,
               desc="new connections to the outbound listener refused after SIGTERM")
    t.join(10)
    assert result.get("status") == 200, f"the request in flight at SIGTERM: {result}"
    try:
        code = e.proc.popen.wait(timeout=max(0.1, sigterm_at + 5 - time.monotonic()))
    except Exception:  # noqa: BLE001 - report it as a failure below
        code = None
    assert code is not None, "weft proxy still running 5 s after SIGTERM"
    took = time.monotonic() - sigterm_at
    assert code == 0, f"weft proxy exited with code {code} after SIGTERM"
    assert took < 5.0, f"weft proxy took {took:.1f}s to exit"
    e.proc.stop()  # closes the log handle; the process is gone already
