"""Issue 10: HTTP request limits and handling that weft control writes for every HTTP listener, with the same
assertions on Envoy and weft proxy: header count 431, Host rules 400, path normalisation, slowloris closed."""

from __future__ import annotations

import socket
import time

from helpers import route_all


def _raw(m, e, request: bytes, timeout: float = 5.0) -> bytes:
    """Sends one raw request (with Connection: close) and reads until the proxy closes or goes quiet."""
    host, port = e.outbound.rsplit(":", 1)
    with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        try:
            while part := s.recv(65536):
                data += part
        except socket.timeout:
            pass
    return data


def _status(data: bytes) -> int:
    assert data.startswith(b"HTTP/1."), data[:200]
    return int(data.split(b" ", 2)[1])


def test_request_limits_and_host_rules(reviews_mesh, report):
    m = reviews_mesh
    e = m.envoys[0]
    m.apply(route_all("v1"))
    m.wait_routing("reviews", "v1")
    ok = _raw(m, e, b"GET /x HTTP/1.1\r\nHost: reviews\r\nConnection: close\r\n\r\n")
    assert _status(ok) == 200, ok[:300]
    many = b"".join(b"x-h%d: v\r\n" % i for i in range(120))
    too_many = _raw(m, e, b"GET /x HTTP/1.1\r\nHost: reviews\r\n" + many + b"Connection: close\r\n\r\n")
    assert _status(too_many) == 431, too_many[:300]
    # 70 KiB of headers (the limit is 60 KiB, Envoy's max_request_headers_kb): 431 on both planes.
    big = _raw(m, e, b"GET /x HTTP/1.1\r\nHost: reviews\r\nx-big: " + b"a" * 70_000 + b"\r\nConnection: close\r\n\r\n")
    assert _status(big) == 431, big[:300]
    before = len(m.ups["v1"].requests)
    two_hosts = _raw(m, e, b"GET /x HTTP/1.1\r\nHost: reviews\r\nHost: ratings\r\nConnection: close\r\n\r\n")
    # Never routed by the first Host: weft proxy answers 400 as RFC 9112 says; Envoy joins the two into one
    # authority that no virtual host matches (404).
    assert _status(two_hosts) == (400 if m.dataplane == "weft" else 404), two_hosts[:300]
    assert len(m.ups["v1"].requests) == before, "a request with two Hosts reached the app"
    no_host = _raw(m, e, b"GET /x HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert _status(no_host) == 400, no_host[:300]
    report("120 headers / two Hosts / no Host", f"{_status(too_many)} / {_status(two_hosts)} / {_status(no_host)}")


def test_dot_segments_are_normalised_before_routing(reviews_mesh):
    m = reviews_mesh
    e = m.envoys[0]
    m.apply(route_all("v1"))
    m.wait_routing("reviews", "v1")
    up = m.ups["v1"]
    for sent, seen in [("/public/../admin", "/admin"), ("/public/%2e%2e/admin", "/admin"), ("/a/./b", "/a/b")]:
        before = len(up.requests)
        r = _raw(m, e, f"GET {sent} HTTP/1.1\r\nHost: reviews\r\nConnection: close\r\n\r\n".encode())
        assert _status(r) == 200, r[:300]
        paths = [q["path"] for q in up.requests[before:]]
        assert paths == [seen], (sent, paths)


def test_slowloris_is_closed_by_the_request_headers_timeout(reviews_mesh, report):
    m = reviews_mesh
    e = m.envoys[0]
    m.apply(route_all("v1"))
    m.wait_routing("reviews", "v1")
    host, port = e.outbound.rsplit(":", 1)
    s = socket.create_connection((host.strip("[]"), int(port)), timeout=30)
    t0 = time.monotonic()
    s.sendall(b"GET /x HTTP/1.1\r\nHost: reviews\r\n")
    data = b""
    try:
        # One header line every second, never the blank line that ends them.
        while time.monotonic() - t0 < 25:
            s.sendall(b"x-slow: 1\r\n")
            s.settimeout(1.0)
            try:
                part = s.recv(4096)
                if not part:
                    break
                data += part
            except socket.timeout:
                continue
    except (BrokenPipeError, ConnectionResetError):
        pass
    took = time.monotonic() - t0
    s.close()
    report("slowloris connection closed after (s)", f"{took:.1f}")
    assert took < 20, f"a connection trickling headers was held {took:.1f} s (request headers timeout is 10 s)"
    assert took >= 9, f"closed after {took:.1f} s, before the 10 s timeout"
    if data:
        assert _status(data) == 408, data[:200]
