"""Access logs on both data planes, switched live with Istio's Telemetry kind: the text line (Istio's default
format, the trace id last) and the JSON object carry method, path, protocol, status, response flags, bytes,
duration, upstream host and cluster; a `filter.expression` keeps only the requests it selects; `disabled`
turns logging off; a Telemetry for one namespace overrides the mesh-wide one.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

from helpers import wait_until

REVIEWS = "reviews.default.svc.cluster.local"


def _mesh_config(tmp: Path) -> tuple[Path, Path, Path]:
    text, js = tmp / "access-text.log", tmp / "access-json.log"
    cfg = tmp / "meshconfig.yaml"
    cfg.write_text(f"""extensionProviders:
- name: text-log
  envoyFileAccessLog:
    path: {text}
- name: json-log
  envoyFileAccessLog:
    path: {js}
    logFormat:
      labels: {{}}
""")
    return cfg, text, js


def _telemetry(ns: str, body: str, name: str = "logs") -> str:
    return (f"apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
            f"spec:\n  accessLogging:\n{body}")


BOTH = "  - providers:\n    - name: text-log\n  - providers:\n    - name: json-log\n"


def _lines(path: Path, marker: str) -> list[str]:
    if not path.exists():
        return []
    return [line for line in path.read_text().splitlines() if marker in line]


def _json_line(path: Path, marker: str) -> dict | None:
    for line in _lines(path, marker):
        return json.loads(line)
    return None


TEXT_LINE = re.compile(
    r'^\[(?P<start>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\] "(?P<method>\S+) (?P<path>\S+) (?P<proto>\S+)" '
    r'(?P<code>\d+) (?P<flags>\S+) (?P<details>\S+) (?P<term>\S+) "(?P<tfr>[^"]*)" (?P<rx>\d+) (?P<tx>\d+) (?P<dur>\d+) '
    r'(?P<ust>\S+) "(?P<xff>[^"]*)" "(?P<ua>[^"]*)" "(?P<rid>[^"]*)" "(?P<authority>[^"]*)" "(?P<uhost>[^"]*)" '
    r'(?P<cluster>\S+) (?P<ulocal>\S+) (?P<dlocal>\S+) (?P<dremote>\S+) (?P<sni>\S+) (?P<route>\S+) (?P<trace>\S+)$')


def test_access_logs_text_and_json_switched_by_telemetry(make_mesh, dataplane, tmp_path):
    cfg, text, js = _mesh_config(tmp_path)
    mesh = make_mesh(control_args=["--mesh-config", str(cfg)])
    ups = mesh.reviews(("v1",))
    envoy = mesh.start_envoy()
    mesh.wait_routing(REVIEWS, "v1")
    # A Telemetry naming a provider the mesh does not have is refused, with the field.
    bad = mesh.apply(_telemetry("default", "  - providers:\n    - name: nope\n", name="bad"), check=False)
    assert bad.returncode != 0 and "spec.accessLogging[0].providers[0].name: no provider is named 'nope'" in bad.stderr, bad.stderr
    # Nothing is logged before a Telemetry names a provider (Istio: no default access log).
    quiet = uuid.uuid4().hex
    assert mesh.request(REVIEWS, f"/quiet/{quiet}").status_code == 200

    mesh.apply(_telemetry("istio-system", BOTH))
    marker = uuid.uuid4().hex

    def logged():
        mesh.request(REVIEWS, f"/ok/{marker}", headers={"x-request-id": marker, "user-agent": "weft-e2e"})
        return _lines(text, marker) and _lines(js, marker)

    wait_until(logged, 15, 0.3, desc=f"a request logged in {text} and {js}")
    assert not _lines(text, quiet) and not _lines(js, quiet), "a request before the Telemetry was logged"
    m = TEXT_LINE.match(_lines(text, marker)[0])
    assert m, f"text line does not have the documented fields: {_lines(text, marker)[0]!r}"
    up = ups["v1"]
    assert (m["method"], m["path"], m["proto"], m["code"], m["flags"]) == ("GET", f"/ok/{marker}", "HTTP/1.1", "200", "-")
    assert m["rid"] == marker and m["ua"] == "weft-e2e" and m["authority"] == REVIEWS
    assert m["uhost"] == f"{up.host}:{up.port}", m["uhost"]
    assert m["cluster"].startswith("outbound|9080|") and m["cluster"].endswith(REVIEWS), m["cluster"]
    assert m["details"] == "via_upstream"
    assert int(m["tx"]) > 0 and int(m["dur"]) >= 0
    assert m["dremote"].startswith(envoy.outbound_host) or m["dremote"].startswith("127."), m["dremote"]
    j = _json_line(js, marker)
    assert j["method"] == "GET" and j["path"] == f"/ok/{marker}" and j["protocol"] == "HTTP/1.1"
    assert j["response_code"] == 200 and j["response_flags"] == "-" and j["request_id"] == marker
    assert j["upstream_host"] == f"{up.host}:{up.port}" and j["upstream_cluster"] == m["cluster"]
    assert isinstance(j["bytes_sent"], int) and j["bytes_sent"] == int(m["tx"])
    assert isinstance(j["duration"], int) and j["authority"] == REVIEWS and "trace_id" in j

    # A request no route matches: 404 with Envoy's NR flag, no upstream.
    nr = uuid.uuid4().hex
    assert mesh.request("nowhere.example", f"/{nr}").status_code == 404
    wait_until(lambda: _lines(text, nr), 10, 0.2, desc="the 404 logged")
    m404 = TEXT_LINE.match(_lines(text, nr)[0])
    assert m404 and m404["code"] == "404" and m404["flags"] == "NR" and m404["uhost"] == "-", _lines(text, nr)[0]
    assert _json_line(js, nr)["upstream_host"] is None

    # filter.expression: only errors are logged now.
    mesh.apply(_telemetry("istio-system", "  - providers:\n    - name: text-log\n    filter:\n"
                                          "      expression: response.code >= 400 && request.method == 'GET'\n"))
    ok, bad = uuid.uuid4().hex, uuid.uuid4().hex

    def filtered():
        mesh.request(REVIEWS, f"/ok/{ok}")
        mesh.request("nowhere.example", f"/{bad}")
        return _lines(text, bad)

    wait_until(filtered, 15, 0.3, desc="the filter applied (a 404 logged)")
    ok2 = uuid.uuid4().hex
    mesh.request(REVIEWS, f"/ok/{ok2}")
    done = uuid.uuid4().hex
    mesh.request("nowhere.example", f"/{done}")
    wait_until(lambda: _lines(text, done), 10, 0.2, desc="the last 404 logged")
    assert not _lines(text, ok2), "a 200 passed the filter response.code >= 400"
    assert not _lines(js, done), "the JSON log was still on after the Telemetry named only text-log"

    # A namespace's Telemetry overrides the mesh's: disabled for default.
    mesh.apply(_telemetry("default", "  - disabled: true\n    providers:\n    - name: text-log\n", name="quiet-default"))
    def silent():
        m1 = uuid.uuid4().hex
        mesh.request("nowhere.example", f"/{m1}")
        return m1

    # Keep sending until a request is no longer logged, then check that later ones are not either.
    def stops():
        m1 = silent()
        time.sleep(1.5)
        return not _lines(text, m1)

    wait_until(stops, 20, 0.1, desc="logging disabled by the namespace's Telemetry")
    last = silent()
    time.sleep(1.5)
    assert not _lines(text, last)


def test_tcp_connections_are_logged(make_mesh, dataplane, tmp_path):
    """A TCP connection through the sidecar is one line: bytes each way, upstream host and cluster, no HTTP fields."""
    import socket
    import threading

    from helpers import free_port

    cfg, text, _ = _mesh_config(tmp_path)
    mesh = make_mesh(control_args=["--mesh-config", str(cfg)])
    app = socket.socket()
    app.bind((mesh.host, 0))
    app.listen(8)

    def serve():
        while True:
            try:
                c, _ = app.accept()
            except OSError:
                return
            with c:
                c.sendall(b"echo:" + c.recv(1024))

    threading.Thread(target=serve, daemon=True).start()
    port = free_port(mesh.host)
    mesh.apply(f"""apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: db
  namespace: default
spec:
  hosts: [db.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - number: {port}
    name: tcp
    protocol: TCP
  endpoints:
  - address: "{mesh.host}"
    ports:
      tcp: {app.getsockname()[1]}
---
""" + _telemetry("istio-system", "  - providers:\n    - name: text-log\n"))
    mesh.start_envoy()

    def call():
        try:
            with socket.create_connection((mesh.host, port), timeout=3) as s:
                s.sendall(b"hello")
                return s.recv(1024) == b"echo:hello"
        except OSError:
            return False

    wait_until(call, 15, 0.2, desc="TCP through the sidecar")
    line = wait_until(lambda: next((x for x in (text.read_text().splitlines() if text.exists() else [])
                                    if f"outbound|{port}||db.default" in x), None), 10, 0.2, desc="the TCP connection logged")
    m = TEXT_LINE.match(line)
    assert m, line
    assert (m["method"], m["path"], m["proto"], m["code"]) == ("-", "-", "-", "0"), line
    assert (int(m["rx"]), int(m["tx"])) == (5, 10), line
    assert m["uhost"] == f"{mesh.host}:{app.getsockname()[1]}" and m["cluster"] == f"outbound|{port}||db.default.svc.cluster.local"
    app.close()
