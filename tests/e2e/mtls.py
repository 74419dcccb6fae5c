"""Helpers for the mutual TLS tests: PeerAuthentication documents, a workload behind its own sidecar, and what
`openssl s_client` sees on an inbound port."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from helpers import docs, free_port, hostport, service_entry

TLS_MODE_LABEL = "security.istio.io/tlsMode"


def peer_authentication(mode: str, ns: str = "default", name: str = "default",
                        selector: dict[str, str] | None = None, ports: dict[int, str] | None = None) -> str:
    lines = ["apiVersion: security.istio.io/v1", "kind: PeerAuthentication",
             f"metadata:\n  name: {name}\n  namespace: {ns}", "spec:"]
    if selector:
        lines.append("  selector:\n    matchLabels:\n" + "".join(f"      {k}: {v}\n" for k, v in selector.items()).rstrip("\n"))
    lines.append(f"  mtls:\n    mode: {mode}")
    if ports:
        lines.append("  portLevelMtls:\n" + "".join(f"    {p}:\n      mode: {m}\n" for p, m in ports.items()).rstrip("\n"))
    return "\n".join(lines) + "\n"


@dataclass
class Workload:
    name: str
    app: object  # the Upstream behind the sidecar
    sidecar: object
    inbound_port: int


def sidecar_workload(mesh, name: str, service_account: str, dataplane: str, ns: str = "default") -> Workload:
    """An upstream app behind its own sidecar (inbound listener), registered as a WorkloadEntry with Istio's
    tlsMode label and its service account, so callers use mTLS to it and expect its SPIFFE ID."""
    app = mesh.upstream(name, "v1", nodelay=True)
    port = free_port(mesh.host)
    sidecar = mesh.start_envoy(node=f"{name}-sidecar-{dataplane}", namespace=ns, labels={"app": name},
                               inbound=f"{hostport(mesh.host, port)}={hostport(mesh.host, app.port)}",
                               service_account=service_account, dataplane=dataplane)
    entry = (f"apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\n"
             f"metadata:\n  name: {name}-1\n  namespace: {ns}\n"
             f"spec:\n  address: {mesh.host}\n  ports:\n    http: {port}\n"
             f"  serviceAccount: {service_account}\n"
             f"  labels:\n    app: {name}\n    version: v1\n    {TLS_MODE_LABEL}: istio\n")
    mesh.apply(docs(service_entry(name, ns), entry))
    return Workload(name, app, sidecar, port)


@dataclass
class PeerCertificate:
    uri_sans: list[str]
    serial: str
    issuer: str
    pem: str


def server_certificate(host: str, port: int) -> PeerCertificate:
    """The certificate a TLS server shows `openssl s_client` (which offers no client certificate, so a server
    that requires one ends the handshake after showing its own)."""
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    cp = subprocess.run(["openssl", "s_client", "-connect", target, "-showcerts"], input="", capture_output=True,
                        text=True, timeout=10)
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", cp.stdout, re.S)
    assert m, f"openssl s_client {target} showed no certificate:\n{cp.stdout}\n{cp.stderr}"
    pem = m.group(0) + "\n"
    x = subprocess.run(["openssl", "x509", "-noout", "-serial", "-issuer", "-ext", "subjectAltName"], input=pem,
                       capture_output=True, text=True, timeout=10)
    assert x.returncode == 0, x.stderr
    serial = re.search(r"serial=(\w+)", x.stdout).group(1)
    issuer = re.search(r"issuer=(.*)", x.stdout).group(1).strip()
    return PeerCertificate(re.findall(r"URI:(\S+?)(?:,|$)", x.stdout, re.M), serial, issuer, pem)


def verify_with_root(pem: str, root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", "verify", "-CAfile", str(root)], input=pem, capture_output=True, text=True,
                          timeout=10)


def xfcc(resp) -> str:
    """The x-forwarded-client-cert the upstream app received (upstream.py echoes request headers)."""
    return resp.json()["headers"].get("x-forwarded-client-cert", "")
