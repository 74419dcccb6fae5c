"""Issue 12: the xDS port is closed. It serves TLS with a certificate from the mesh CA (identity .../sa/weft-control);
a caller proves who it is with a join token (the first time) or a certificate from the mesh CA (afterwards), and
may open streams and get certificates only as that namespace and service account. A certificate from another CA,
an expired token or no credential at all is refused, and nothing about the mesh is sent."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import grpc
import pytest

from helpers import XDSCredentials, wait_until
from mtls import server_certificate, verify_with_root
from pbwire import field, fields
from xds_load import CDS, METHOD, request

CSR_METHOD = "/istio.v1.auth.IstioCertificateService/CreateCertificate"


def _node(node_id: str, namespace: str, service_account: str) -> bytes:
    def value(s: str) -> bytes:
        return field(3, s)  # google.protobuf.Value.string_value
    meta = b"".join(field(1, field(1, k) + field(2, value(v)))
                    for k, v in {"NAMESPACE": namespace, "SERVICE_ACCOUNT": service_account}.items())
    return field(1, node_id) + field(3, meta)


def _channel(m, creds: XDSCredentials) -> grpc.Channel:
    return grpc.secure_channel(m.xds_addr, creds.channel_credentials(), options=creds.channel_options())


def _stream(m, creds: XDSCredentials | None, node_id: str, ns: str, sa: str) -> tuple[str, object]:
    """Opens an ADS stream as that node and waits for the first response: ("ok", type_url) or (code, details)."""
    ch = grpc.insecure_channel(m.xds_addr) if creds is None else _channel(m, creds)
    done = threading.Event()

    def requests():  # one request, then the stream stays open (as a proxy's does) until the answer is read
        yield request(CDS, _node(node_id, ns, sa))
        done.wait(15)
    try:
        call = ch.stream_stream(METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)(
            requests(), metadata=creds.metadata() if creds else (), timeout=10)
        first = next(call)
        type_url = next(v.decode() for n, v in fields(first) if n == 4)
        call.cancel()
        return "ok", type_url
    except grpc.RpcError as e:
        return e.code().name, e.details()
    finally:
        done.set()
        ch.close()


def _csr(tmp: Path, name: str) -> tuple[str, bytes]:
    key, csr = tmp / f"{name}-key.pem", tmp / f"{name}.csr"
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(csr), "-subj", "/"], check=True, capture_output=True)
    return csr.read_text(), key.read_bytes()


def _certificate(m, creds: XDSCredentials, csr: str, ns: str, sa: str) -> tuple[str, object]:
    """Istio's CreateCertificate: ("ok", [chain PEMs]) or (code, details)."""
    def value(s: str) -> bytes:
        return field(3, s)
    meta = b"".join(field(1, field(1, k) + field(2, value(v))) for k, v in {"NAMESPACE": ns, "SERVICE_ACCOUNT": sa}.items())
    body = field(1, csr) + field(4, meta)  # IstioCertificateRequest: csr = 1, metadata = 4
    ch = _channel(m, creds)
    try:
        resp = ch.unary_unary(CSR_METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)(
            body, metadata=creds.metadata(), timeout=10)
        return "ok", [v.decode() for n, v in fields(resp) if n == 1]
    except grpc.RpcError as e:
        return e.code().name, e.details()
    finally:
        ch.close()


def _other_ca(tmp: Path, uri: str) -> tuple[bytes, bytes]:
    """A CA that is not the mesh's, and a certificate from it claiming `uri` (what an attacker could make)."""
    def run(*args: str) -> None:
        subprocess.run(list(args), check=True, capture_output=True, cwd=tmp)
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "evil-ca-key.pem", "-out", "evil-ca.pem", "-days", "2", "-subj", "/O=cluster.local",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "evil-key.pem", "-out", "evil.csr", "-subj", "/")
    (tmp / "evil.ext").write_text(f"subjectAltName=critical,URI:{uri}\nextendedKeyUsage=clientAuth,serverAuth\n")
    run("openssl", "x509", "-req", "-in", "evil.csr", "-CA", "evil-ca.pem", "-CAkey", "evil-ca-key.pem",
        "-CAcreateserial", "-out", "evil.pem", "-days", "1", "-extfile", "evil.ext")
    return (tmp / "evil.pem").read_bytes(), (tmp / "evil-key.pem").read_bytes()


@pytest.mark.control_plane_only
def test_xds_port_serves_tls_as_the_control_plane(mesh):
    m = mesh
    host, port = m.xds_addr.rsplit(":", 1)
    cert = server_certificate(host.strip("[]"), int(port))
    assert cert.uri_sans == ["spiffe://cluster.local/ns/istio-system/sa/weft-control"], cert
    assert verify_with_root(cert.pem, m.data_dir / "ca" / "root-cert.pem").returncode == 0
    # Plaintext, as before, gets nothing.
    code, _ = _stream(m, None, "plain.default", "default", "default")
    assert code == "UNAVAILABLE", code


@pytest.mark.control_plane_only
def test_streams_need_a_credential_for_the_identity_they_claim(mesh):
    m = mesh
    throwaway_cert, throwaway_key = XDSCredentials.throwaway(m.tmp)
    root = (m.data_dir / "ca" / "root-cert.pem").read_bytes()

    def with_token(token):
        return XDSCredentials(root, throwaway_cert, throwaway_key, token)

    # No credential at all.
    code, details = _stream(m, with_token(None), "anon.default", "default", "default")
    assert code == "UNAUTHENTICATED" and "credential" in details, (code, details)
    # A token not issued by this control plane.
    code, details = _stream(m, with_token("weft.e30.AAAA"), "forged.default", "default", "default")
    assert code == "UNAUTHENTICATED", (code, details)
    # A join token for shop/reviews opens a stream as shop/reviews, and nothing else.
    token = m.join_token("shop", "reviews")
    assert _stream(m, with_token(token), "reviews-1.shop", "shop", "reviews") == ("ok", CDS)
    for ns, sa in (("default", "reviews"), ("shop", "ratings"), ("default", "default")):
        code, details = _stream(m, with_token(token), f"x.{ns}", ns, sa)
        assert code == "PERMISSION_DENIED" and "shop" in details and ns in details, (code, details)
        assert m.proxy_status(f"x.{ns}") is None, "a refused stream must not be recorded as a proxy"
    # An expired token is refused with the reason.
    short = m.join_token("shop", "reviews", ttl=1)
    time.sleep(1.5)
    code, details = _stream(m, with_token(short), "late.shop", "shop", "reviews")
    assert code == "UNAUTHENTICATED" and "expired" in details, (code, details)


@pytest.mark.control_plane_only
def test_a_certificate_is_the_credential_after_the_token(mesh):
    m = mesh
    root = (m.data_dir / "ca" / "root-cert.pem").read_bytes()
    throwaway_cert, throwaway_key = XDSCredentials.throwaway(m.tmp)
    token = m.join_token("shop", "reviews")
    joining = XDSCredentials(root, throwaway_cert, throwaway_key, token)
    csr, key = _csr(m.tmp, "reviews")
    # The token gets a certificate for its own identity only.
    code, details = _certificate(m, joining, csr, "shop", "ratings")
    assert code == "PERMISSION_DENIED", (code, details)
    code, chain = _certificate(m, joining, csr, "shop", "reviews")
    assert code == "ok" and len(chain) == 2, (code, chain)
    mine = XDSCredentials(root, chain[0].encode(), key, None)
    # With that certificate and no token: streams as shop/reviews, renewals, and nothing else.
    assert _stream(m, mine, "reviews-2.shop", "shop", "reviews") == ("ok", CDS)
    code, details = _stream(m, mine, "reviews-2.default", "default", "reviews")
    assert code == "PERMISSION_DENIED" and "mesh certificate" in details, (code, details)
    csr2, _ = _csr(m.tmp, "reviews-renew")
    code, renewed = _certificate(m, mine, csr2, "shop", "reviews")
    assert code == "ok" and renewed[0] != chain[0], code
    # A certificate for the same identity from another CA proves nothing.
    evil_cert, evil_key = _other_ca(m.tmp, "spiffe://cluster.local/ns/shop/sa/reviews")
    forged = XDSCredentials(root, evil_cert, evil_key, None)
    code, details = _stream(m, forged, "reviews-3.shop", "shop", "reviews")
    assert code == "UNAUTHENTICATED" and "not issued by this mesh" in details, (code, details)
    code, details = _certificate(m, forged, csr2, "shop", "reviews")
    assert code == "UNAUTHENTICATED", (code, details)
    # Nobody gets the control plane's own identity, not even with the admin token.
    admin = m.xds_credentials()
    code, details = _certificate(m, admin, csr2, "istio-system", "weft-control")
    assert code == "INVALID_ARGUMENT" and "reserved" in details, (code, details)


@pytest.mark.weft_only
def test_weft_proxy_presents_its_token_once(mesh):
    """weft proxy joins with a token that expires seconds later; after a control plane restart it reconnects with
    its mesh certificate and still gets config. (Envoy has no certificate of its own for its xDS connection and
    presents its token on each stream: docs/security.md.)"""
    m = mesh
    m.reviews(versions=("v1",))
    m.start_envoy(token_ttl=4)
    m.wait_routing("reviews", "v1")
    time.sleep(4.5)  # the token has expired
    m.stop_control_plane()
    m.start_control_plane()
    m.apply("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews}\n"
            "spec:\n  hosts: [reviews]\n  http:\n  - fault: {abort: {httpStatus: 418, percentage: {value: 100}}}\n"
            "    route: [{destination: {host: reviews}}]\n")
    wait_until(lambda: m.request("reviews").status_code == 418, 20, 0.2, desc="config after the restart reaches the proxy")
    log = m.cp.log.read_text()
    assert "caller=mesh certificate for namespace default, service account default" in log, log[-3000:]
