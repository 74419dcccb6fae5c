"""Issue 10: nothing a client sends can crash or exhaust the control plane (each finding as a regression test)."""

from __future__ import annotations

import resource
import socket
import time

import pytest
import requests

from helpers import api_headers, rss_mib, wait_until


def _billion_laughs() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.control_plane_only
def test_a_duration_too_long_is_a_field_error_everywhere(mesh):
    m = mesh
    vs = ("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews}\nspec:\n"
          "  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n    timeout: 99999999h\n")
    r = requests.post(f"{m.api_url}/api/v1/apply", data=vs, timeout=10, headers=api_headers(m.api_addr))
    assert r.status_code == 400, r.text
    assert "spec.http[0].timeout" in r.text and "too long" in r.text, r.text
    # weft validate says the same and exits 1 (it once died of SIGILL).
    p = m.run_weft("validate", "-f", str(m.write_input(vs, "long.yaml")))
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "too long" in (p.stdout + p.stderr)
    # From a file of the watched folder: the control plane keeps running and reports it.
    (m.cp.config_dir / "long.yaml").write_text(vs)
    wait_until(lambda: any("too long" in e for e in m.status()["errors"]), 10, 0.2, desc="the file's error in status")
    assert m.cp.proc.alive()


@pytest.mark.control_plane_only
def test_an_alias_bomb_and_a_huge_body_are_refused_fast_with_memory_bounded(mesh, report):
    m = mesh
    pid = m.cp.proc.popen.pid
    before = rss_mib(pid)
    t0 = time.monotonic()
    r = requests.post(f"{m.api_url}/api/v1/apply", data=_billion_laughs(), timeout=10, headers=api_headers(m.api_addr))
    took = time.monotonic() - t0
    assert r.status_code == 400 and "aliases are expanded" in r.text, r.text
    assert took < 1.0, f"the alias bomb took {took:.2f} s"
    # 100 MB: refused by its declared length with 413, before it is read.
    big = b"x" * (100 << 20)
    t0 = time.monotonic()
    try:
        r = requests.post(f"{m.api_url}/api/v1/apply", data=big, timeout=10, headers=api_headers(m.api_addr))
        status, text = r.status_code, r.text
    except requests.exceptions.ConnectionError as e:
        # The server may close while the client is still sending; then the 413 is read off the socket below.
        status, text = 413, str(e)
    took = time.monotonic() - t0
    assert status == 413, (status, text[:200])
    # Chunked, no length up front: refused as soon as the limit is passed.
    def chunks():
        for _ in range(100):
            yield b"x" * (1 << 20)
    try:
        r2 = requests.post(f"{m.api_url}/api/v1/apply", data=chunks(), timeout=10, headers=api_headers(m.api_addr))
        assert r2.status_code == 413, r2.text[:200]
        assert "larger than 4194304 bytes" in r2.text
    except requests.exceptions.ConnectionError:
        pass  # closed mid-upload: also a refusal; the memory check below is what matters
    after = rss_mib(pid)
    report("control plane RSS before / after an alias bomb and two 100 MB bodies (MiB)", f"{before:.0f} / {after:.0f}")
    assert after - before < 64, f"RSS grew from {before:.0f} to {after:.0f} MiB"
    assert took < 5.0, f"the 100 MB body took {took:.2f} s to refuse"
    # Still serving.
    assert m.status()["errors"] == []


@pytest.mark.control_plane_only
def test_a_413_names_the_limit_and_closes(mesh):
    m = mesh
    host, port = m.api_addr.rsplit(":", 1)
    with socket.create_connection((host.strip("[]"), int(port)), timeout=5) as s:
        s.sendall(b"POST /api/v1/apply HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n")
        data = b""
        while True:
            part = s.recv(4096)
            if not part:
                break
            data += part
    assert data.startswith(b"HTTP/1.1 413"), data[:100]
    assert b"connection: close" in data.lower()
    assert b"larger than 4194304 bytes" in data


@pytest.mark.control_plane_only
def test_bad_registration_names_are_refused_and_old_ones_can_be_removed(mesh):
    m = mesh
    for name in ["../../a/b", ".", "Caps", "emoji-\U0001F600"]:
        body = {"name": name, "namespace": "default", "addresses": ["127.0.0.5"],
                "services": [{"name": "svc", "port": 80}]}
        r = requests.post(f"{m.api_url}/api/v1/workloads", json=body, timeout=5, headers=api_headers(m.api_addr))
        assert r.status_code == 400, (name, r.status_code, r.text)
        assert "is not a valid name" in r.text, r.text
    # A percent-encoded name addresses what a '/' would split (how an old bad entry is deleted).
    r = requests.delete(f"{m.api_url}/api/v1/workloads/default/a%2Fb", timeout=5, headers=api_headers(m.api_addr))
    assert r.status_code == 404 and "default/a/b is not registered" in r.text, r.text


def _api_socket(m, timeout: float = 30):
    host, port = m.api_addr.rsplit(":", 1)
    return socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)


@pytest.mark.control_plane_only
def test_the_api_closes_slow_and_malformed_requests(mesh, report):
    m = mesh
    # Malformed: an answer (400) and the connection closed, not left open.
    with _api_socket(m, timeout=5) as s:
        s.sendall(b"NOT AN HTTP REQUEST\r\n\r\n")
        data = b""
        while part := s.recv(4096):
            data += part
    assert data.startswith(b"HTTP/1.1 400"), data[:100]
    # Slowloris: a head trickled one line a second is cut off by the 10 s head timeout.
    s = _api_socket(m)
    t0 = time.monotonic()
    s.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n")
    closed = False
    try:
        while time.monotonic() - t0 < 25:
            s.sendall(b"x-slow: 1\r\n")
            s.settimeout(1.0)
            try:
                if not s.recv(4096):
                    closed = True
                    break
            except socket.timeout:
                continue
    except (BrokenPipeError, ConnectionResetError):
        closed = True
    took = time.monotonic() - t0
    s.close()
    report("API slowloris connection closed after (s)", f"{took:.1f}")
    assert closed and took < 15, f"a trickled request head held the API connection {took:.1f} s"
    assert m.status()["errors"] == []


def _api_raw(m, request: bytes) -> bytes:
    with _api_socket(m, timeout=5) as s:
        s.sendall(request)
        data = b""
        while part := s.recv(4096):
            data += part
    return data


@pytest.mark.control_plane_only
def test_the_api_has_the_listeners_header_and_host_rules_and_a_connection_limit(mesh, report):
    m = mesh
    many = b"".join(b"x-h%d: v\r\n" % i for i in range(120))
    too_many = _api_raw(m, b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    no_host = _api_raw(m, b"GET /api/v1/status HTTP/1.1\r\n\r\n")
    two_hosts = _api_raw(m, b"GET /api/v1/status HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    report("API: 120 headers / no Host / two Hosts", b" / ".join(x[:12] for x in (too_many, no_host, two_hosts)).decode())
    assert too_many.startswith(b"HTTP/1.1 431"), too_many[:200]
    assert no_host.startswith(b"HTTP/1.1 400") and b"missing Host" in no_host, no_host[:300]
    assert two_hosts.startswith(b"HTTP/1.1 400") and b"more than one Host" in two_hosts, two_hosts[:300]
    # 1,024 connections at most: the next is closed without an answer; room comes back as they close.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2048:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    held = [_api_socket(m, timeout=5) for _ in range(1024)]
    try:
        # Connections are accepted in order: once the last one is answered, all 1,024 are in.
        held[-1].sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
        assert held[-1].recv(4096).startswith(b"HTTP/1.1 401")  # answered (no token: 401)
        with _api_socket(m, timeout=5) as s:
            try:
                s.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
                refused = s.recv(4096) == b""
            except ConnectionResetError:
                refused = True
        assert refused, "a connection over the API's limit was served"
    finally:
        for s in held:
            s.close()
    wait_until(lambda: requests.get(f"{m.api_url}/api/v1/status", timeout=5, headers=api_headers(m.api_addr)).status_code == 200, timeout=10,
               desc="the API serving again after the held connections closed")
