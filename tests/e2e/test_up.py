"""`weft up`: a three-service mesh (front -> details, reviews v1/v2 -> ratings) of weft-sample processes, each
with its own weft proxy sidecar on its own loopback address, in one command."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from helpers import wait_until
from meshup import REVIEWS_DR, WeftUp, alive, mesh_yaml, reviews_versions

CANARY = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match:
    - headers:
        end-user: {exact: jason}
    route:
    - destination: {host: reviews, subset: v2}
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 75
    - destination: {host: reviews, subset: v2}
      weight: 25
"""


def start_mesh(weft_bin, tmp_path, request, ipv6=False) -> WeftUp:
    (tmp_path / "istio").mkdir()
    (tmp_path / "istio" / "reviews-dr.yaml").write_text(REVIEWS_DR)
    (tmp_path / "mesh.yaml").write_text(mesh_yaml(", ipv6: true" if ipv6 else ""))
    return WeftUp(weft_bin, tmp_path, ["up", "-f", "mesh.yaml"], ipv6=ipv6, item=request.node)


@pytest.fixture
def up(weft_bin, tmp_path, request):
    u = start_mesh(weft_bin, tmp_path, request)
    yield u
    left = u.close()
    assert not left, f"processes left behind: {left}"


def check_mesh(up: WeftUp, report, ipv6: bool = False):
    ws = up.wait_ready()
    assert len(ws) == 6
    addresses = [w["address"] for w in ws.values()]
    shared = ipv6 and set(addresses) == {"::1"}  # no address could be added to lo: ::1 with distinct ports
    assert shared or len(set(addresses)) == 6, addresses
    assert all((":" in a) == ipv6 for a in addresses), addresses
    if ipv6:
        assert up.state()["api"].startswith("[::1]:")
    table = up.output()
    for name in ws:
        assert name in table
    # A plain Python server, wired by the environment alone ($PORT, $WEFT_HOST), is on the mesh too.
    legacy = up.via("front-v1", "http://legacy:9090/hello")
    assert legacy.status_code == 200 and legacy.json()["version"] == "v7" and legacy.json()["path"] == "/hello", legacy.text
    # Every call goes through the sidecars: count them on both sides.
    before = {n: up.inbound_requests(n) for n in ws}
    front_out = up.outbound_requests("front-v1", "reviews")
    seen = reviews_versions(up, 20)
    after = {n: up.inbound_requests(n) for n in ws}
    delta = {n: after[n] - before[n] for n in ws}
    assert delta["front-v1"] == 20, delta
    assert delta["details-v1"] == 20, delta
    assert delta["reviews-v1"] + delta["reviews-v2"] == 20, delta
    assert delta["reviews-v1"] == seen["v1"] and delta["reviews-v2"] == seen["v2"], (delta, seen)
    assert delta["ratings-v1"] == seen["v2"], (delta, seen)  # only reviews v2 calls ratings
    assert up.outbound_requests("front-v1", "reviews") - front_out == 20
    rss = [int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{w['sidecarPid']}/status").read()).group(1)) for w in ws.values()]
    report("sidecar RSS after 20 requests (MiB, min/max)", f"{min(rss) / 1024:.1f} / {max(rss) / 1024:.1f}")
    # Canary split and header route, applied to the running mesh.
    up.apply(CANARY, up.weft_bin)
    wait_until(lambda: reviews_versions(up, 5, {"end-user": "jason"}) == {"v2": 5}, 10, 0.1, desc="jason pinned to v2")
    n = 200
    split = reviews_versions(up, n)
    share = split["v2"] / n
    report("canary share of reviews v2 (want 0.25)", f"{share:.3f} of {n}")
    assert 0.15 <= share <= 0.35, split
    return ws


def test_up_three_services(up, weft_bin, report):
    up.weft_bin = weft_bin
    ws = check_mesh(up, report)
    # The status command shows services, versions, sync state and routes.
    import subprocess
    st = subprocess.run([weft_bin, "status", "--server", up.api], capture_output=True, text=True, timeout=20)
    assert st.returncode == 0, st.stderr
    for word in ("reviews", "v2", "front-v1", "ACK", "reviews-v1"):
        assert word in st.stdout, st.stdout
    # mTLS between the sidecars: each has its own identity, and a mesh-wide STRICT policy breaks nothing
    # while a plaintext caller is refused at a sidecar's inbound port.
    assert "spiffe://cluster.local/ns/default/sa/reviews (cert" in st.stdout, st.stdout
    up.apply("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
             "metadata: {name: default, namespace: istio-system}\nspec:\n  mtls: {mode: STRICT}\n", up.weft_bin)
    reg = next(w for w in up.api_get("/api/v1/workloads")["workloads"] if w["name"] == "reviews-v1")
    inbound = (reg["addresses"][0], reg["services"][0]["targetPort"])
    from test_mtls import _plaintext_refused
    wait_until(lambda: _plaintext_refused(*inbound), 10, 0.1, desc="plaintext refused at reviews-v1's sidecar")
    # Sidecar to sidecar still works (the front's app calls out through its sidecar, as the shop does).
    for _ in range(10):
        r = up.via("front-v1", "http://reviews:9080/reviews/1")
        assert r.status_code == 200, r.text
    d = subprocess.run([weft_bin, "delete", "pa", "default", "-n", "istio-system", "--server", up.api],
                       capture_output=True, text=True, timeout=20)
    assert d.returncode == 0, d.stderr
    wait_until(lambda: not _plaintext_refused(*inbound), 10, 0.1, desc="plaintext accepted again (PERMISSIVE)")
    # A killed service is restarted (new pid) and registered again.
    old = ws["reviews-v1"]["appPid"]
    t0 = time.monotonic()
    os.kill(old, signal.SIGKILL)
    def restarted():
        w = up.workloads()["reviews-v1"]
        return w["appPid"] and w["appPid"] != old and w["registered"] and w
    w = wait_until(restarted, 15, 0.05, desc="reviews-v1 restarted")
    wait_until(lambda: up.get("reviews-v1", "/reviews/1").json()["version"] == "v1", 10, 0.1, desc="reviews-v1 answers again")
    report("restart of a killed service (s)", f"{time.monotonic() - t0:.2f}")
    assert w["appStarts"] == 2
    assert "reviews-v1 ended (killed by signal 9); restarting" in up.output()
    # Ctrl-C: everything stops, in order, and no process is left.
    pids = up.track()
    assert len(pids) >= 12, pids  # 6 apps + 6 sidecars
    t0 = time.monotonic()
    rc = up.signal(signal.SIGINT)
    report("ordered stop after SIGINT (s)", f"{time.monotonic() - t0:.2f}")
    assert rc == 0, up.output()[-2000:]
    assert [p for p in pids if alive(p)] == []
    out = up.output()
    assert out.index("stopping (signal 2)") < out.index("stopped; logs in")


@pytest.mark.parametrize("addressing", ["own", "shared"])
def test_up_ipv6_only(weft_bin, tmp_path, request, report, addressing, monkeypatch):
    if addressing == "shared":  # as on a host where addresses cannot be added to lo: all on ::1, own ports
        monkeypatch.setenv("WEFT_IPV6_SHARED", "1")
    u = start_mesh(weft_bin, tmp_path, request, ipv6=True)
    u.weft_bin = weft_bin
    try:
        ws = check_mesh(u, report, ipv6=True)
        reg = u.api_get("/api/v1/workloads")["workloads"]
        assert all(":" in a for w in reg for a in w["addresses"]), reg
        pids = u.track()
        assert u.signal(signal.SIGTERM) == 0
        assert [p for p in pids if alive(p)] == []
        assert ({w["address"] for w in ws.values()} == {"::1"}) == (addressing == "shared")
    finally:
        left = u.close()
        assert not left, f"processes left behind: {left}"


def test_up_with_prometheus(weft_bin, tmp_path, request):
    """`weft up --prometheus`: a real Prometheus beside the mesh finds every sidecar through the control plane's
    service discovery and has Istio's request metrics for the front page's calls."""
    from helpers import free_port, hostport, session
    prom_addr = hostport("127.0.0.1", free_port())
    (tmp_path / "istio").mkdir()
    (tmp_path / "istio" / "reviews-dr.yaml").write_text(REVIEWS_DR)
    (tmp_path / "mesh.yaml").write_text(mesh_yaml(""))
    up = WeftUp(weft_bin, tmp_path, ["up", "-f", "mesh.yaml", "--prometheus", "--prometheus-address", prom_addr], item=request.node)
    try:
        ws = up.wait_ready()
        assert f"prometheus: http://{prom_addr}" in up.output()

        def query(q: str) -> list[dict]:
            with session() as s:
                r = s.get(f"http://{prom_addr}/api/v1/query", params={"query": q}, timeout=5)
            r.raise_for_status()
            return r.json()["data"]["result"]

        def all_up():
            reviews_versions(up, 2)  # traffic while we wait
            return len(query('up{job="weft"} == 1')) == len(ws)
        wait_until(all_up, 60, 1, desc=lambda: f"every sidecar up in prometheus ({query('up')})")
        q = 'sum by (source_workload, destination_service_name) (istio_requests_total{reporter="source"})'

        def front_to_reviews():
            reviews_versions(up, 2)
            return any(s["metric"].get("source_workload") == "front-v1" and s["metric"].get("destination_service_name") == "reviews"
                       and float(s["value"][1]) > 0 for s in query(q))
        wait_until(front_to_reviews, 30, 1, desc=lambda: f"front-v1 -> reviews in prometheus ({query(q)})")
    finally:
        left = up.close()
        assert not left, f"processes left behind: {left}"
