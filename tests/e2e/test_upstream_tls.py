"""DestinationRule `tls` SIMPLE and MUTUAL with the user's own certificate files, for a service outside the mesh
(issue 12: "SIMPLE / MUTUAL with user files keep working for external services"), on both data planes: the app
calls http://secure.example through its sidecar, and the sidecar originates TLS to the HTTPS server, checking
it by the given CA and, for MUTUAL, presenting the given client certificate."""

from __future__ import annotations

import http.server
import json
import ssl
import subprocess
import threading
from pathlib import Path

import pytest

from helpers import free_port


def _pki(d: Path) -> None:
    """A CA, a server certificate for secure.example from it, a client certificate from it, and another CA."""
    def run(*args: str) -> None:
        subprocess.run(list(args), check=True, capture_output=True, cwd=d)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "other-ca"):
        run("openssl", "req", "-x509", *ec, "-keyout", f"{ca}-key.pem", "-out", f"{ca}.pem", "-days", "2",
            "-subj", f"/CN={ca}", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    for name, ext in (("server", "subjectAltName=DNS:secure.example\nextendedKeyUsage=serverAuth\n"),
                      ("client", "extendedKeyUsage=clientAuth\n")):
        run("openssl", "req", "-new", *ec, "-keyout", f"{name}-key.pem", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        (d / f"{name}.ext").write_text(ext)
        run("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "1", "-extfile", f"{name}.ext")


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        peer = self.connection.getpeercert()
        body = json.dumps({"tls": True, "sni": getattr(self.server, "last_sni", None),
                           "client_cert": bool(peer)}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _https_server(d: Path, require_client_cert: bool) -> tuple[http.server.HTTPServer, int]:
    port = free_port("127.0.0.1")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(d / "server.pem", d / "server-key.pem")
    if require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(d / "ca.pem")

    def sni(sock, name, _ctx):
        srv.last_sni = name
    ctx.sni_callback = sni
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, port


def _config(port: int, tls_yaml: str) -> str:
    return f"""apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: secure}}
spec:
  hosts: [secure.example]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{{number: 80, name: http, protocol: HTTP}}]
  endpoints: [{{address: 127.0.0.1, ports: {{http: {port}}}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: secure}}
spec:
  host: secure.example
  trafficPolicy:
    tls: {tls_yaml}
"""


@pytest.mark.parametrize("mode", ["SIMPLE", "MUTUAL"])
def test_destination_rule_tls_with_files(mesh, tmp_path, mode):
    m = mesh
    _pki(tmp_path)
    srv, port = _https_server(tmp_path, require_client_cert=(mode == "MUTUAL"))
    try:
        m.start_envoy()
        client = f"clientCertificate: {tmp_path}/client.pem, privateKey: {tmp_path}/client-key.pem, " if mode == "MUTUAL" else ""
        m.apply(_config(port, f"{{mode: {mode}, {client}caCertificates: {tmp_path}/ca.pem, sni: secure.example}}"))
        m.wait_synced()
        from helpers import wait_until
        wait_until(lambda: m.request("secure.example").status_code == 200, 15, 0.2, desc="secure.example through the sidecar")
        seen = m.request("secure.example").json()
        assert seen == {"tls": True, "sni": "secure.example", "client_cert": mode == "MUTUAL"}, seen
        # A CA that did not sign the server's certificate: the sidecar refuses the server (no 200).
        m.apply(_config(port, f"{{mode: {mode}, {client}caCertificates: {tmp_path}/other-ca.pem, sni: secure.example}}"))
        m.wait_synced()
        wait_until(lambda: m.request("secure.example").status_code == 503, 15, 0.2, desc="a server the CA did not sign is refused")
        if mode == "MUTUAL":
            # Without the client certificate, the server refuses the sidecar.
            m.apply(_config(port, f"{{mode: SIMPLE, caCertificates: {tmp_path}/ca.pem, sni: secure.example}}"))
            m.wait_synced()
            wait_until(lambda: m.request("secure.example").status_code == 503, 15, 0.2, desc="no client certificate, no answer")
    finally:
        srv.shutdown()
