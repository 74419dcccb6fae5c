"""Issue 12: workload identities from the mesh CA and mutual TLS between sidecars, on both data planes and
across them. Envoy is the reference; weft proxy must behave the same."""

from __future__ import annotations

import time

import pytest
import requests

from helpers import LOCAL4, hostport, raw_exchange, session, wait_until
from mtls import peer_authentication, server_certificate, sidecar_workload, verify_with_root, xfcc

PAIRS = [("envoy", "envoy"), ("envoy", "weft"), ("weft", "envoy"), ("weft", "weft")]
ROOT_ISSUER = "O=cluster.local, CN=Weft mesh root CA"


def _wait_mtls(mesh, client, host: str, expect_uri: str, timeout: float = 15.0) -> requests.Response:
    """Wait until a call through `client` reaches the app over mTLS (its XFCC names the caller)."""
    last: list = []

    def ok():
        try:
            r = client.request(host, timeout=3)
        except requests.RequestException as e:
            last[:] = [repr(e)]
            return False
        last[:] = [r.status_code, xfcc(r) if r.status_code == 200 else r.text[:300]]
        return r.status_code == 200 and f"URI={expect_uri}" in xfcc(r)

    wait_until(ok, timeout, 0.1, desc=lambda: f"an mTLS call to {host} naming {expect_uri} (last: {last})")
    return client.request(host, timeout=3)


def _plaintext_refused(host: str, port: int) -> bool:
    try:
        got = raw_exchange(host, port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout=3)
    except OSError:
        return True
    return isinstance(got, str)


@pytest.mark.cross_plane
@pytest.mark.parametrize("client_plane,server_plane", PAIRS, ids=[f"{c}-to-{s}" for c, s in PAIRS])
def test_sidecars_talk_mtls_and_the_server_sees_the_callers_spiffe_id(make_mesh, client_plane, server_plane):
    m = make_mesh()
    server = sidecar_workload(m, "reviews", "reviews-sa", server_plane)
    client = m.start_envoy(node=f"front-{client_plane}", labels={"app": "front"}, service_account="front-sa",
                           dataplane=client_plane)
    r = _wait_mtls(m, client, "reviews", "spiffe://cluster.local/ns/default/sa/front-sa")
    header = xfcc(r)
    assert "By=spiffe://cluster.local/ns/default/sa/reviews-sa" in header, header
    # The inbound port shows the workload's certificate: its SPIFFE ID, issued by the mesh root.
    cert = server_certificate(m.host, server.inbound_port)
    assert cert.uri_sans == ["spiffe://cluster.local/ns/default/sa/reviews-sa"], cert
    assert cert.issuer.replace(" = ", "=") == ROOT_ISSUER, cert.issuer
    v = verify_with_root(cert.pem, m.data_dir / "ca" / "root-cert.pem")
    assert v.returncode == 0, v.stdout + v.stderr
    # A caller's own x-forwarded-client-cert is not believed: the server replaces it.
    forged = client.request("reviews", headers={"x-forwarded-client-cert": "URI=spiffe://cluster.local/ns/default/sa/admin"})
    assert "sa/admin" not in xfcc(forged) and "sa/front-sa" in xfcc(forged), xfcc(forged)


def test_peer_authentication_modes_apply_live(mesh, dataplane):
    m = mesh
    server = sidecar_workload(m, "reviews", "reviews", dataplane)
    client = m.start_envoy(node="front", labels={"app": "front"}, service_account="front")
    caller = "spiffe://cluster.local/ns/default/sa/front"
    direct = f"http://{hostport(m.host, server.inbound_port)}/"
    # Default PERMISSIVE: sidecars use mTLS, a plaintext client still gets through.
    _wait_mtls(m, client, "reviews", caller)
    with session() as s:
        assert s.get(direct, timeout=3).status_code == 200
    # STRICT (namespace-wide): plaintext is refused on every attempt; sidecars still get through over mTLS.
    m.apply(peer_authentication("STRICT"))
    m.wait_synced()
    wait_until(lambda: _plaintext_refused(m.host, server.inbound_port), 10, 0.1, desc="plaintext refused under STRICT")
    assert all(_plaintext_refused(m.host, server.inbound_port) for _ in range(20))
    _wait_mtls(m, client, "reviews", caller)
    # A workload policy overrides the namespace: DISABLE takes plaintext only, and callers switch to it.
    m.apply(peer_authentication("DISABLE", name="reviews", selector={"app": "reviews"}))
    m.wait_synced()

    def plain_ok():
        with session() as s:
            try:
                return s.get(direct, timeout=3).status_code == 200
            except requests.RequestException:
                return False

    wait_until(plain_ok, 10, 0.1, desc="plaintext accepted under DISABLE")

    # Callers open new connections in plaintext (Envoy drains the connections it had over its drain time).
    newcomer = m.start_envoy(node="front-2", labels={"app": "front"}, service_account="front")

    def called_in_plaintext():
        r = newcomer.request("reviews", timeout=3)
        return r.status_code == 200 and xfcc(r) == ""

    wait_until(called_in_plaintext, 10, 0.1, desc="a sidecar calls reviews in plaintext under DISABLE")
    assert client.request("reviews", timeout=3).status_code == 200
    # portLevelMtls: STRICT on the workload's port only.
    m.apply(peer_authentication("DISABLE", name="reviews", selector={"app": "reviews"},
                                ports={server.inbound_port: "STRICT"}))
    m.wait_synced()
    wait_until(lambda: _plaintext_refused(m.host, server.inbound_port), 10, 0.1, desc="port-level STRICT")
    _wait_mtls(m, client, "reviews", caller)


def test_destination_rule_tls_modes(mesh, dataplane):
    m = mesh
    sidecar_workload(m, "reviews", "reviews", dataplane)
    client = m.start_envoy(node="front", labels={"app": "front"}, service_account="front")
    caller = "spiffe://cluster.local/ns/default/sa/front"
    _wait_mtls(m, client, "reviews", caller)
    dr = ("apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\n"
          "spec:\n  host: reviews\n  trafficPolicy:\n    tls:\n      mode: {mode}\n")
    m.apply(dr.format(mode="DISABLE"))
    m.wait_synced()
    wait_until(lambda: xfcc(client.request("reviews", timeout=3)) == "", 10, 0.1, desc="plaintext with DR DISABLE")
    m.apply(dr.format(mode="ISTIO_MUTUAL"))
    m.wait_synced()
    _wait_mtls(m, client, "reviews", caller)


def test_a_restarted_control_plane_keeps_its_root(mesh, dataplane):
    m = mesh
    server = sidecar_workload(m, "reviews", "reviews", dataplane)
    client = m.start_envoy(node="front", labels={"app": "front"}, service_account="front")
    _wait_mtls(m, client, "reviews", "spiffe://cluster.local/ns/default/sa/front")
    root = (m.data_dir / "ca" / "root-cert.pem").read_text()
    key = m.data_dir / "ca" / "root-key.pem"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    before = server_certificate(m.host, server.inbound_port)
    m.stop_control_plane()
    m.start_control_plane()
    assert (m.data_dir / "ca" / "root-cert.pem").read_text() == root
    # Certificates issued before the restart still verify; calls keep working while proxies reconnect.
    assert verify_with_root(before.pem, m.data_dir / "ca" / "root-cert.pem").returncode == 0
    wait_until(lambda: all(p.get("connected") for p in m.status()["proxies"]), 15, 0.1, desc="proxies reconnected")
    _wait_mtls(m, client, "reviews", "spiffe://cluster.local/ns/default/sa/front")


@pytest.mark.cross_plane
@pytest.mark.parametrize("client_plane,server_plane", PAIRS, ids=[f"{c}-to-{s}" for c, s in PAIRS])
def test_tcp_service_over_mtls(make_mesh, client_plane, server_plane):
    import socket
    import threading

    m = make_mesh()
    # A TCP echo app behind its own sidecar.
    lsock = socket.socket()
    lsock.bind((LOCAL4, 0))
    lsock.listen(8)
    app_port = lsock.getsockname()[1]

    def serve():
        while True:
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            with c:
                data = c.recv(1024)
                c.sendall(b"echo:" + data)

    threading.Thread(target=serve, daemon=True).start()
    from helpers import free_port
    port = free_port(m.host)
    m.start_envoy(node=f"db-sidecar-{server_plane}", labels={"app": "db"}, service_account="db",
                  inbound=f"{hostport(m.host, port)}={hostport(m.host, app_port)}=tcp", dataplane=server_plane)
    tcp_port = free_port(m.host)
    m.apply(f"""apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: db
spec:
  hosts: [db.default.svc.cluster.local]
  location: MESH_INTERNAL
  ports:
  - number: {tcp_port}
    name: tcp
    protocol: TCP
  resolution: STATIC
  workloadSelector:
    labels:
      app: db
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: db-1
spec:
  address: {m.host}
  ports:
    tcp: {port}
  serviceAccount: db
  labels:
    app: db
    security.istio.io/tlsMode: istio
---
{peer_authentication("STRICT", selector={"app": "db"}, name="db")}""")
    client = m.start_envoy(node=f"front-{client_plane}", labels={"app": "front"}, service_account="front",
                           dataplane=client_plane)
    m.wait_synced()

    def echo():
        try:
            with socket.create_connection((m.host, tcp_port), timeout=3) as s:
                s.sendall(b"hello")
                return s.recv(1024) == b"echo:hello"
        except OSError:
            return False

    wait_until(echo, 15, 0.2, desc="TCP echo through the sidecars under STRICT (so over mTLS)")
    assert _plaintext_refused(m.host, port)
    assert client.proc.alive()
    lsock.close()


def test_rotation_under_load_fails_no_request(make_mesh, dataplane, report):
    """Certificates live one minute and rotate at half-life; traffic for three lifetimes loses nothing."""
    m = make_mesh(control_args=["--cert-ttl", "1m"])
    server = sidecar_workload(m, "reviews", "reviews", dataplane)
    client = m.start_envoy(node="front", labels={"app": "front"}, service_account="front")
    _wait_mtls(m, client, "reviews", "spiffe://cluster.local/ns/default/sa/front")
    serials = {server_certificate(m.host, server.inbound_port).serial}
    failures, total = [], 0
    end = time.monotonic() + 180
    with session() as s:
        while time.monotonic() < end:
            try:
                r = client.request("reviews", timeout=5, sess=s)
                if r.status_code != 200 or "URI=spiffe://" not in xfcc(r):
                    failures.append(f"{r.status_code} {xfcc(r)!r}")
            except requests.RequestException as e:
                failures.append(repr(e))
            total += 1
            if total % 50 == 0:
                serials.add(server_certificate(m.host, server.inbound_port).serial)
            time.sleep(0.02)
    report("requests during 3 certificate lifetimes", str(total))
    report("distinct server serials seen", str(len(serials)))
    assert not failures, f"{len(failures)} of {total} failed: {failures[:5]}"
    assert len(serials) >= 3, serials


@pytest.mark.cross_plane
@pytest.mark.parametrize("client_plane,server_plane", PAIRS, ids=[f"{c}-to-{s}" for c, s in PAIRS])
def test_grpc_over_mtls_under_strict(make_mesh, client_plane, server_plane):
    import grpc

    from grpc_echo import BIDI, UNARY, GrpcEcho, channel
    from helpers import docs, free_port

    m = make_mesh()
    app = GrpcEcho(m.host).start()
    try:
        inb = free_port(m.host)
        m.start_envoy(node=f"echo-sidecar-{server_plane}", labels={"app": "echo"}, service_account="echo",
                      inbound=f"{m.host}:{inb}={m.host}:{app.port}=grpc", dataplane=server_plane)
        m.apply(docs(
            f"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: echo\nspec:\n"
            f"  hosts: [echo.default.svc.cluster.local]\n  location: MESH_INTERNAL\n  resolution: STATIC\n"
            f"  ports:\n  - number: 50051\n    name: grpc\n    protocol: GRPC\n  workloadSelector:\n    labels:\n      app: echo\n",
            f"apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: echo-1\nspec:\n"
            f"  address: {m.host}\n  ports:\n    grpc: {inb}\n  serviceAccount: echo\n"
            f"  labels:\n    app: echo\n    security.istio.io/tlsMode: istio\n",
            peer_authentication("STRICT", name="echo", selector={"app": "echo"}),
        ))
        client = m.start_envoy(node=f"front-{client_plane}", labels={"app": "front"}, service_account="front",
                               dataplane=client_plane)
        m.wait_synced()
        assert _plaintext_refused(m.host, inb)
        ch = channel(client.outbound, authority="echo:50051")
        try:
            unary = ch.unary_unary(UNARY)
            wait_until(lambda: unary(b"warm-up", timeout=2) == b"warm-up", 15, 0.1, desc="gRPC unary over mTLS")
            resp, call = unary.with_call(b"hello", timeout=5)
            assert resp == b"hello" and call.code() == grpc.StatusCode.OK
            bidi = ch.stream_stream(BIDI)
            got = list(bidi(iter([b"a", b"b", b"c"]), timeout=10))
            assert got == [b"a", b"b", b"c"], got
        finally:
            ch.close()
    finally:
        app.stop()


def test_active_health_checks_probe_strict_endpoints_over_mtls(mesh):
    """An endpoint behind a sidecar that takes only mTLS (STRICT) is probed over mTLS, as its traffic goes
    (Envoy's health checks use the host's transport socket): the probes reach the app through the server sidecar,
    and the endpoint stays in rotation."""
    from helpers import destination_rule_annotated, health_annotations
    m = mesh
    w = sidecar_workload(m, "ratings", "ratings", m.dataplane)
    m.apply(peer_authentication("STRICT", ns="istio-system"))
    m.apply(destination_rule_annotated("ratings", health_annotations("http", "300ms", "250ms", path="/healthz")))
    client = m.start_envoy(node="hc-client.default")
    wait_until(lambda: len(w.app.health_requests) >= 3, 15, 0.1,
               desc=lambda: f"probes through the STRICT sidecar (app saw {len(w.app.health_requests)})")
    for q in w.app.health_requests:
        assert "By=spiffe://cluster.local/ns/default/sa/ratings" in q["headers"].get("x-forwarded-client-cert", ""), q
    wait_until(lambda: client.request("ratings").status_code == 200, 10, 0.1, desc="traffic to the probed endpoint")
