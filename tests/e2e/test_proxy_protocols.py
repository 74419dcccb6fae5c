"""Wire protocols through the outbound listener, on both data planes: HTTP/1.0, chunked and
large bodies, 100-continue, WebSocket, raw TCP services and gRPC through two sidecars."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import socket
import time

import grpc
import pytest

from grpc_echo import BIDI, UNARY, GrpcEcho, channel
from helpers import (
    RawConn, docs, free_port, service_entry_ports, session, wait_until, workload_entry_ports,
)
from upstream import TcpEcho, pattern, ws_accept, ws_frame, ws_read_frame

MiB = 1024 * 1024


def _conn(e, timeout: float = 5.0) -> RawConn:
    return RawConn(e.host, e.outbound_port, timeout)


# ---------------------------------------------------------------- HTTP/1.x


def test_http10_request_is_answered_and_closed(reviews_mesh):
    m = reviews_mesh
    e = m.envoys[0]
    with _conn(e) as c:
        c.send(b"GET /ten HTTP/1.0\r\nHost: reviews\r\n\r\n")
        r = c.response()
        assert r.version.startswith("HTTP/1."), f"status line {r.status_line!r}"
        assert r.status == 200, f"HTTP/1.0 GET -> {r!r}"
        body = json.loads(r.body)
        assert body["service"] == "reviews" and body["path"] == "/ten", body
        assert c.closed_by_peer(3.0), (
            f"{m.dataplane} kept the HTTP/1.0 connection open after the response (no keep-alive asked)")


def test_chunked_upload_arrives_whole(reviews_mesh):
    m = reviews_mesh
    e = m.envoys[0]
    piece = os.urandom(3 * 1024)
    n_pieces = 100  # 300 KiB

    def gen():
        for _ in range(n_pieces):
            yield piece

    want = hashlib.sha256(piece * n_pieces).hexdigest()
    r = e.request("reviews", "/echo-sha", method="POST", data=gen(), timeout=10)
    assert r.status_code == 200, f"chunked POST -> {r.status_code} {r.text[:300]}"
    assert r.json() == {"sha256": want, "length": len(piece) * n_pieces}


def test_ten_mib_upload_and_download(reviews_mesh, report):
    m = reviews_mesh
    e = m.envoys[0]
    block = os.urandom(64 * 1024)
    total = 10 * MiB
    want = hashlib.sha256(block * (total // len(block))).hexdigest()

    def gen():
        for _ in range(total // len(block)):
            yield block

    t0 = time.monotonic()
    r = e.request("reviews", "/echo-sha", method="POST", data=gen(), timeout=20)
    up = time.monotonic() - t0
    assert r.status_code == 200, f"10 MiB streamed POST -> {r.status_code} {r.text[:300]}"
    assert r.json() == {"sha256": want, "length": total}

    # Same upload with a Content-Length (not chunked).
    r = e.request("reviews", "/echo-sha", method="POST", data=block * (total // len(block)), timeout=20)
    assert r.status_code == 200 and r.json() == {"sha256": want, "length": total}, r.text[:300]

    want_down = hashlib.sha256(pattern(total)).hexdigest()
    for query in ("", "?chunked=1"):
        t0 = time.monotonic()
        with session() as s:
            resp = s.get(f"http://{e.outbound}/bytes/{total}{query}", headers={"Host": "reviews"},
                         stream=True, timeout=20)
            assert resp.status_code == 200, f"GET /bytes/{total}{query} -> {resp.status_code}"
            h, n = hashlib.sha256(), 0
            for chunk in resp.iter_content(256 * 1024):
                h.update(chunk)
                n += len(chunk)
        down = time.monotonic() - t0
        assert n == total, f"GET /bytes/{total}{query}: got {n} bytes"
        assert h.hexdigest() == want_down, f"GET /bytes/{total}{query}: content differs"
        report(f"10 MiB download{query or ' (content-length)'} seconds", f"{down:.2f}")
    report("10 MiB chunked upload seconds", f"{up:.2f}")


def test_expect_100_continue(reviews_mesh, report):
    m = reviews_mesh
    e = m.envoys[0]
    body = os.urandom(20000)
    t0 = time.monotonic()
    with _conn(e) as c:
        c.send(b"POST /echo-body HTTP/1.1\r\nHost: reviews\r\nContent-Type: application/octet-stream\r\n"
               b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % len(body))
        got_continue = False
        final = None
        try:  # like curl: wait up to 1 s for the interim response, then send anyway
            r = c.response(timeout=1.0)
            if r.status == 100:
                got_continue = True
            else:
                final = r
        except (socket.timeout, TimeoutError):
            pass
        if final is None:
            c.send(body)
            final = c.response(timeout=3.0)
            while 100 <= final.status < 200:  # a late or repeated 100
                got_continue = True
                final = c.response(timeout=3.0)
    took = time.monotonic() - t0
    report("100 Continue seen", str(got_continue))
    report("Expect: 100-continue exchange seconds", f"{took:.2f}")
    assert final.status == 200, f"Expect: 100-continue POST -> {final!r}"
    assert final.body == body, f"echoed body differs: {len(final.body)} bytes back of {len(body)}"
    assert took < 2.0, f"Expect: 100-continue exchange took {took:.2f}s (want < 2 s)"


def test_websocket_echo(reviews_mesh):
    m = reviews_mesh
    e = m.envoys[0]
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    with _conn(e) as c:
        c.send(b"GET /chat HTTP/1.1\r\nHost: reviews\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               b"Sec-WebSocket-Key: " + key.encode() + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        r = c.response(head_request=True)
        assert r.status == 101, f"WebSocket handshake -> {r!r}"
        assert (r.header("upgrade") or "").lower() == "websocket", r
        assert r.header("sec-websocket-accept") == ws_accept(key), r
        for i, text in enumerate(["hello", "x" * 200, "ü" * 40000]):  # 7-bit, 16-bit and 64-bit lengths
            payload = text.encode()
            c.send(ws_frame(0x1, payload, mask=os.urandom(4)))
            fin, opcode, masked, echoed = ws_read_frame(c.read_exact)
            assert (fin, opcode, masked) == (True, 0x1, False), f"frame {i}: fin={fin} op={opcode} masked={masked}"
            assert echoed == payload, f"frame {i}: echo differs ({len(echoed)} bytes of {len(payload)})"
        c.send(ws_frame(0x8, b"\x03\xe8bye", mask=os.urandom(4)))
        _, opcode, _, payload = ws_read_frame(c.read_exact)
        assert opcode == 0x8 and payload[:2] == b"\x03\xe8", f"close frame: op={opcode} {payload!r}"
        assert c.closed_by_peer(3.0), "connection still open after the WebSocket close handshake"


# ---------------------------------------------------------------- raw TCP


def _tcp_echo(host: str, port: int, payload: bytes, timeout: float = 5.0) -> bytes:
    """Send payload, read as many bytes back, close."""
    with RawConn(host, port, timeout) as c:
        c.send(payload)
        return c.read_exact(len(payload))


def _tcp_half_close(host: str, port: int, payload: bytes, timeout: float = 5.0) -> bytes:
    """Send payload, half-close (shutdown SHUT_WR), read until EOF."""
    with RawConn(host, port, timeout) as c:
        c.send(payload)
        c.sock.shutdown(socket.SHUT_WR)
        return c.read_to_eof(timeout)


def test_tcp_service(mesh):
    m = mesh
    echo = TcpEcho(m.host).start()
    try:
        svc_port = free_port(m.host)
        m.apply(docs(
            service_entry_ports("tcp-echo", [(svc_port, "tcp", "TCP")]),
            workload_entry_ports("tcp-echo-1", m.host, {"tcp": echo.port}, {"app": "tcp-echo"}),
        ))
        e = m.start_envoy()
        wait_until(lambda: _tcp_echo(m.host, svc_port, b"ping", 1.0) == b"ping", 15, 0.1,
                   desc=f"TCP echo through {m.dataplane} at {m.host}:{svc_port}")
        accepted = echo.accepted
        for i in range(10):
            msg = f"hello {i} ".encode() * (i + 1)
            assert _tcp_echo(m.host, svc_port, msg) == msg, f"connection {i}"
        big = os.urandom(512 * 1024)
        got = _tcp_echo(m.host, svc_port, big, 10.0)
        assert got == big, "512 KiB echo differs"
        assert echo.accepted - accepted == 11, f"upstream saw {echo.accepted - accepted} connections, want 11"
        # Half-close: the client's FIN reaches the app, whose late echo and FIN come back.
        for i in range(3):
            msg = f"half-close {i}".encode()
            got = _tcp_half_close(m.host, svc_port, msg)
            assert got == msg, f"after shutdown(SHUT_WR) got {got!r} back, want {msg!r} then EOF"
        assert e.proc.alive()
    finally:
        echo.stop()


# ---------------------------------------------------------------- gRPC


def test_grpc_through_two_sidecars(mesh):
    m = mesh
    app = GrpcEcho(m.host).start()
    try:
        inb = free_port(m.host)
        server_side = m.start_envoy(inbound=f"{m.host}:{inb}={m.host}:{app.port}=grpc",
                                    labels={"app": "echo-server"})
        m.apply(docs(
            service_entry_ports("echo", [(50051, "grpc", "GRPC")]),
            workload_entry_ports("echo-1", m.host, {"grpc": inb}, {"app": "echo"}),
        ))
        client_side = m.start_envoy()
        ch = channel(client_side.outbound, authority="echo:50051")
        try:
            unary = ch.unary_unary(UNARY)
            wait_until(lambda: unary(b"warm-up", timeout=2) == b"warm-up", 15, 0.1,
                       desc=f"gRPC unary through {client_side.node} -> {server_side.node}")
            resp, call = unary.with_call(b"hello grpc", timeout=5)
            assert resp == b"hello grpc"
            assert call.code() == grpc.StatusCode.OK
            trailers = dict(call.trailing_metadata() or ())
            assert trailers.get("x-trailer") == "yes", f"trailing metadata lost: {trailers}"


            with pytest.raises(grpc.RpcError) as ei:
                unary(b"fail", timeout=5)
            assert ei.value.code() == grpc.StatusCode.NOT_FOUND, f"status {ei.value.code()} {ei.value.details()}"
            assert ei.value.details() == "no such thing", f"details {ei.value.details()!r}"

            # Bidi in lockstep: the next message is only sent after the previous echo came back,
            # so a proxy that buffers the request stream would hang here.
            bidi = ch.stream_stream(BIDI)
            outbox: queue.Queue = queue.Queue()

            def requests_iter():
                while True:
                    item = outbox.get(timeout=15)
                    if item is None:
                        return
                    yield item

            call = bidi(requests_iter(), timeout=15)
            got = []
            for i in range(20):
                msg = f"message {i}".encode()
                outbox.put(msg)
                got.append(next(call))
            outbox.put(None)
            rest = list(call)
            assert got == [f"message {i}".encode() for i in range(20)], got
            assert rest == [], f"extra messages after the stream ended: {rest}"
            assert call.code() == grpc.StatusCode.OK

            # Messages larger than HTTP/2's initial 64 KiB flow-control window, both ways.
            for size in (100 * 1024, 1024 * 1024):
                big = os.urandom(size)
                assert unary(big, timeout=10) == big, f"{size // 1024} KiB unary message differs"
        finally:
            ch.close()
    finally:
        app.stop()
