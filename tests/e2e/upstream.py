"""A tiny threaded HTTP/1.1 upstream used as the "application" behind Envoy.

Answers any method and path with 200 and a JSON body
    {"service", "version", "path", "method", "headers": {...}}
Special paths:
    /status/NNN         answer with status NNN (same JSON body)
    /delay/MS           sleep MS milliseconds, then answer 200
    /flaky/KEY/N        answer 503 to the first N requests for KEY, then 200

Use in-process (``Upstream(...).start()``) or as a subprocess:
    python upstream.py --port P --name reviews --version v1 [--host ::1]
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path
        # Absolute-form request line (should not happen behind Envoy, but be lenient).
        if path.startswith("http://") or path.startswith("https://"):
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        plain = path.split("?", 1)[0]
        parts = [p for p in plain.split("/") if p]
        status = 200
        if len(parts) >= 2 and parts[0] == "status" and parts[1].isdigit():
            status = int(parts[1])
        elif len(parts) >= 2 and parts[0] == "delay" and parts[1].isdigit():
            time.sleep(int(parts[1]) / 1000.0)
        elif len(parts) >= 3 and parts[0] == "flaky" and parts[2].isdigit():
            with self.server.lock:
                seen = self.server.flaky.get(parts[1], 0)
                self.server.flaky[parts[1]] = seen + 1
            if seen < int(parts[2]):
                status = 503
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
        super().__init__(addr, _Handler)


class Upstream:
    """An in-process upstream on HOST:PORT (PORT 0 picks a free port)."""

    def __init__(self, service: str, version: str, host: str = "127.0.0.1", port: int = 0):
        self.service = service
        self.version = version
        self.host = host
        self._server = _Server((host, port), service, version)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
            name=f"upstream-{service}-{version}", daemon=True)

    def start(self) -> "Upstream":
        self._thread.start()
        return self

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--name", default="app")
    ap.add_argument("--version", default="v1")
    a = ap.parse_args()
    srv = _Server((a.host, a.port), a.name, a.version)
    print(f"listening on {a.host}:{srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
