"""A tiny threaded HTTP/1.1 upstream used as the "application" behind Envoy.

Answers any method and path with 200 and a JSON body
    {"service", "version", "path", "method", "headers": {...}}
Special paths:
    /status/NNN         answer with status NNN (same JSON body)
    /delay/MS           sleep MS milliseconds, then answer 200
    /flaky/KEY/N        answer 503 to the first N requests for KEY, then 200
Upstream(..., fail_status=500) (or `u.fail_status = 500` at run time, 0 to stop) answers
every plain request (not /echo-*, /bytes/N, WebSocket, the health path) with that status instead.
    /healthz            the health path (u.health_path, settable; --health-path for the
                        subprocess): answers u.health_status (200 unless the test sets e.g.
                        503), whatever fail_status is; recorded in u.health_requests, not in
                        u.requests, so health probes never count as traffic
    /echo-sha           read the whole body (Content-Length or chunked), answer
                        {"sha256": hex, "length": n}
    /echo-body          answer 200 with the request body itself (application/octet-stream)
    /bytes/N            answer N bytes of pattern(N) in 64 KiB writes; Content-Length,
                        or Transfer-Encoding: chunked with ?chunked=1
Any request with `Upgrade: websocket` is answered 101 and then echoes text and
binary frames (server frames unmasked) until a close frame or EOF.
Request bodies are always read whole (Content-Length or chunked) so keep-alive works.

TcpEcho(host).start(): a TCP echo server (echoes until the client half-closes, then closes).

Use in-process (``Upstream(...).start()``) or as a subprocess:
    python upstream.py --port P --name reviews --version v1 [--host ::1]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import socket
import struct
import threading
import time
from typing import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_PATTERN = bytes(range(256)) * 256  # 64 KiB


def pattern(n: int) -> bytes:
    """The n bytes /bytes/N sends: 0,1,...,255 repeated."""
    reps = n // len(_PATTERN) + 1
    return (_PATTERN * reps)[:n]


def ws_accept(key: str) -> str:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 4.2.2)."""
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


def ws_frame(opcode: int, payload: bytes, mask: bytes | None = None, fin: bool = True) -> bytes:
    """One WebSocket frame; clients must pass a 4-byte mask, servers must not."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 65536:
        head += bytes([mbit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack("!Q", n)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


def ws_read_frame(read_exact: Callable[[int], bytes]) -> tuple[bool, int, bool, bytes]:
    """(fin, opcode, was_masked, unmasked payload) of the next frame; read_exact(n) returns n bytes."""
    b0, b1 = read_exact(2)
    fin, opcode, masked, n = bool(b0 & 0x80), b0 & 0x0F, bool(b1 & 0x80), b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", read_exact(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", read_exact(8))[0]
    mask = read_exact(4) if masked else b""
    payload = read_exact(n) if n else b""
    if masked:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return fin, opcode, masked, payload


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def setup(self) -> None:
        super().setup()
        if self.server.nodelay:
            # Headers and body go out in two writes; with Nagle on, the body waits for the peer's
            # delayed ACK (~40 ms per response on loopback).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def _iter_body(self) -> Iterator[bytes]:
        """The request body in pieces: chunked (with trailers skipped) or Content-Length."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("EOF in chunked body")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return
                left = size
                while left:
                    piece = self.rfile.read(min(left, 65536))
                    if not piece:
                        raise ConnectionError("EOF in chunk")
                    left -= len(piece)
                    yield piece
                self.rfile.readline(3)  # CRLF after the chunk
        left = int(self.headers.get("Content-Length") or 0)
        while left > 0:
            piece = self.rfile.read(min(left, 65536))
            if not piece:
                raise ConnectionError("EOF in body")
            left -= len(piece)
            yield piece

    def _send_bytes(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Upstream", f"{self.server.service}-{self.server.version}")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _websocket(self) -> None:
        self.close_connection = True
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", ws_accept(self.headers.get("Sec-WebSocket-Key", "")))
        self.end_headers()
        self.wfile.flush()

        def read_exact(n: int) -> bytes:
            data = self.rfile.read(n)
            if len(data) != n:
                raise ConnectionError("EOF in websocket frame")
            return data

        try:
            while True:
                fin, opcode, _, payload = ws_read_frame(read_exact)
                if opcode == 0x8:  # close: echo it and stop
                    self.wfile.write(ws_frame(0x8, payload[:125]))
                    return
                if opcode == 0x9:  # ping
                    self.wfile.write(ws_frame(0xA, payload))
                elif opcode in (0x0, 0x1, 0x2):
                    self.wfile.write(ws_frame(opcode, payload, fin=fin))
        except (ConnectionError, OSError, ValueError):
            return

    def _handle(self) -> None:
        if (self.headers.get("Upgrade") or "").lower() == "websocket":
            self._websocket()
            return
        path = self.path
        # Absolute-form request line (should not happen behind Envoy, but be lenient).
        if path.startswith("http://") or path.startswith("https://"):
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        plain = path.split("?", 1)[0]
        parts = [p for p in plain.split("/") if p]
        if parts == ["echo-sha"]:
            h, n = hashlib.sha256(), 0
            for piece in self._iter_body():
                h.update(piece)
                n += len(piece)
            self._send_bytes(200, json.dumps({"sha256": h.hexdigest(), "length": n}).encode())
            return
        if parts == ["echo-body"]:
            self._send_bytes(200, b"".join(self._iter_body()), "application/octet-stream")
            return
        for _ in self._iter_body():
            pass
        if plain == self.server.health_path:
            self._health(path)
            return
        if len(parts) == 2 and parts[0] == "bytes" and parts[1].isdigit():
            self._send_pattern(int(parts[1]), "chunked=1" in path.partition("?")[2])
            return
        status = 200
        if len(parts) >= 2 and parts[0] == "status" and parts[1].isdigit():
            status = int(parts[1])
        elif len(parts) >= 2 and parts[0] == "delay" and parts[1].isdigit():
            time.sleep(int(parts[1]) / 1000.0)
        elif len(parts) >= 3 and parts[0] == "slow-once" and parts[2].isdigit():
            # The first request for KEY waits MS milliseconds; later ones answer at once.
            with self.server.lock:
                seen = self.server.flaky.get("slow:" + parts[1], 0)
                self.server.flaky["slow:" + parts[1]] = seen + 1
            if seen == 0:
                time.sleep(int(parts[2]) / 1000.0)
        elif len(parts) >= 3 and parts[0] == "flaky" and parts[2].isdigit():
            with self.server.lock:
                seen = self.server.flaky.get(parts[1], 0)
                self.server.flaky[parts[1]] = seen + 1
            if seen < int(parts[2]):
                status = 503
        if self.server.fail_status:
            status = self.server.fail_status
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = {
            "service": self.server.service,
            "version": self.server.version,
            "path": path,
            "method": self.command,
            "headers": headers,
        }
        with self.server.lock:
            self.server.requests.append(record)
        body = json.dumps(record).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Upstream", f"{self.server.service}-{self.server.version}")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _health(self, path: str) -> None:
        status = self.server.health_status
        record = {"path": path, "method": self.command, "status": status,
                  "headers": {k.lower(): v for k, v in self.headers.items()}, "time": time.monotonic()}
        with self.server.lock:
            self.server.health_requests.append(record)
        body = json.dumps({"service": self.server.service, "version": self.server.version,
                           "health": status}).encode()
        self._send_bytes(status, body)

    def _send_pattern(self, n: int, chunked: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(n))
        self.end_headers()
        if self.command == "HEAD":
            return
        sent = 0
        while sent < n:
            piece = _PATTERN[: min(len(_PATTERN), n - sent)]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            sent += len(piece)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, service: str, version: str):
        self.address_family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        self.service = service
        self.version = version
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.flaky: dict[str, int] = {}
        self.fail_status = 0  # non-zero: answer every plain request with this status
        self.health_path = "/healthz"
        self.health_status = 200
        self.health_requests: list[dict] = []
        self.nodelay = False  # True: TCP_NODELAY on accepted connections (no ~40 ms per response)
        super().__init__(addr, _Handler)


class Upstream:
    """An in-process upstream on HOST:PORT (PORT 0 picks a free port)."""

    def __init__(self, service: str, version: str, host: str = "127.0.0.1", port: int = 0,
                 fail_status: int = 0, nodelay: bool = False):
        """nodelay: TCP_NODELAY on its connections, so a response is not held back ~40 ms by Nagle's
        algorithm waiting for the proxy's delayed ACK (for tests that need many fast requests)."""
        self.service = service
        self.version = version
        self.host = host
        self._server = _Server((host, port), service, version)
        self._server.fail_status = fail_status
        self._server.nodelay = nodelay
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
            name=f"upstream-{service}-{version}", daemon=True)

    def start(self) -> "Upstream":
        self._thread.start()
        return self

    @property
    def fail_status(self) -> int:
        """Non-zero: every plain request is answered with this status (switchable at run time)."""
        return self._server.fail_status

    @fail_status.setter
    def fail_status(self, status: int) -> None:
        self._server.fail_status = status

    @property
    def health_status(self) -> int:
        """What the health path (health_path, default /healthz) answers: 200 unless set (e.g. 503)."""
        return self._server.health_status

    @health_status.setter
    def health_status(self, status: int) -> None:
        self._server.health_status = status

    @property
    def health_path(self) -> str:
        return self._server.health_path

    @health_path.setter
    def health_path(self, path: str) -> None:
        self._server.health_path = path

    @property
    def health_requests(self) -> list[dict]:
        """Requests to the health path (path, method, status answered, headers, monotonic time)."""
        with self._server.lock:
            return list(self._server.health_requests)

    @property
    def requests(self) -> list[dict]:
        with self._server.lock:
            return list(self._server.requests)

    def clear(self) -> None:
        with self._server.lock:
            self._server.requests.clear()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __repr__(self) -> str:
        return f"Upstream({self.service} {self.version} @ {self.host}:{self.port})"


class TcpEcho:
    """A TCP echo server on HOST (port picked by the OS unless given); counts the connections it accepted
    (.accepted) and those that sent data (.served)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(128)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self.accepted = 0
        self.served = 0  # connections that sent data (so not a connect-only health probe)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"tcp-echo-{self.port}", daemon=True)

    def start(self) -> "TcpEcho":
        self._thread.start()
        return self

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        first = True
        try:
            with conn:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        return
                    if first:
                        first = False
                        self.served += 1
                    conn.sendall(data)
        except OSError:
            pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def __repr__(self) -> str:
        return f"TcpEcho({self.host}:{self.port})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--name", default="app")
    ap.add_argument("--version", default="v1")
    ap.add_argument("--health-path", default="/healthz")
    ap.add_argument("--nodelay", action="store_true", help="TCP_NODELAY on accepted connections")
    a = ap.parse_args()
    srv = _Server((a.host, a.port), a.name, a.version)
    srv.health_path = a.health_path
    srv.nodelay = a.nodelay
    print(f"listening on {a.host}:{srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
