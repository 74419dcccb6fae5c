"""`weft run`: one process joins a running mesh (started by `weft up`) with its own sidecar: two services on
one process, a host with two addresses, deregistration on exit, and heartbeat expiry when the host dies."""

from __future__ import annotations

import os
import signal
import time

import pytest

from helpers import session, wait_until
from meshup import WeftProcess, WeftUp, alive

MESH = """\
options: {ttl: 3s}
services:
- {name: details, version: v1, command: weft-sample details, port: 9080}
"""


@pytest.fixture
def up(weft_bin, tmp_path, request):
    (tmp_path / "mesh.yaml").write_text(MESH)
    u = WeftUp(weft_bin, tmp_path, ["up", "-f", "mesh.yaml"], item=request.node)
    u.wait_ready()
    yield u
    left = u.close()
    assert not left, f"processes left behind: {left}"


def weft_run(weft_bin, up: WeftUp, tmp_path, request, name: str, addresses: list[str], services: list[str],
             version: str, ttl: float = 2.0) -> WeftProcess:
    args = ["run", "--name", name, "--port", "9080", "--labels", f"version={version}", "--ttl", str(ttl),
            "--control-plane", up.xds, "--server", up.api]
    for a in addresses:
        args += ["--address", a]
    for s in services:
        args += ["--service", s]
    return WeftProcess(weft_bin, [*args, "--", "weft-sample", "ratings"], tmp_path, name, request.node)


def registered(up: WeftUp, name: str) -> dict | None:
    return next((w for w in up.api_get("/api/v1/workloads")["workloads"] if w["name"] == name), None)


def test_run_joins_with_two_services_and_two_addresses(up, weft_bin, tmp_path, request, report):
    t0 = time.monotonic()
    run = weft_run(weft_bin, up, tmp_path, request, "vm-ratings", ["127.0.0.41", "127.0.0.42"], ["ratings", "stars"], "v9")
    try:
        w = wait_until(lambda: registered(up, "vm-ratings"), 30, 0.1, desc=lambda: f"vm-ratings registered; output:\n{run.output()}")
        wait_until(lambda: "vm-ratings joined the mesh" in run.output(), 10, 0.1, desc="the joined line")
        report("weft run: start to registered (s)", f"{time.monotonic() - t0:.2f}")
        assert w["addresses"] == ["127.0.0.41", "127.0.0.42"]
        assert sorted(s["name"] for s in w["services"]) == ["ratings", "stars"]
        # Istio's label for a workload with a sidecar: callers' sidecars use mTLS to it.
        assert w["labels"] == {"app": "ratings", "version": "v9", "security.istio.io/tlsMode": "istio"}
        assert w["serviceAccount"] == "ratings", w
        # Both services answer through the mesh (from the details workload's sidecar), served by the one process.
        for host in ("ratings", "stars"):
            r = wait_until(lambda: (lambda r: r if r.status_code == 200 else None)(up.via("details-v1", f"http://{host}:9080/ratings/1")),
                           10, 0.1, desc=f"{host} answering through the mesh")
            assert r.json()["workload"] == "vm-ratings" and r.json()["version"] == "v9"
        # The sidecar listens on both addresses; each forwards to the app.
        with session() as s:
            for a in ("127.0.0.41", "127.0.0.42"):
                assert s.get(f"http://{a}:9080/ratings/1", timeout=5).json()["workload"] == "vm-ratings"
            stats = s.get("http://127.0.0.41:15000/stats/prometheus", timeout=5).text
        inbound = sum(int(l.rsplit(" ", 1)[1]) for l in stats.splitlines() if l.startswith('weft_cluster_upstream_rq_total{cluster="inbound|9080||"}'))
        assert inbound >= 4, stats
        # SIGINT: the app and the sidecar stop, the workload leaves at once (no TTL wait).
        pids = run.track()
        assert len(pids) >= 2
        t1 = time.monotonic()
        assert run.signal(signal.SIGINT) == 0, run.output()
        assert registered(up, "vm-ratings") is None
        report("weft run: SIGINT to deregistered and stopped (s)", f"{time.monotonic() - t1:.2f}")
        assert [p for p in pids if alive(p)] == []
        r = up.via("details-v1", "http://ratings:9080/ratings/1")
        assert r.status_code == 503, r.text
    finally:
        assert not run.close()


def test_heartbeat_expiry_removes_a_dead_host(up, weft_bin, tmp_path, request, report):
    run = weft_run(weft_bin, up, tmp_path, request, "vm-dies", ["127.0.0.43"], ["ratings"], "v1", ttl=2.0)
    try:
        wait_until(lambda: registered(up, "vm-dies"), 30, 0.1, desc="vm-dies registered")
        wait_until(lambda: up.via("details-v1", "http://ratings:9080/").status_code == 200, 10, 0.1, desc="ratings answering")
        # The host dies: weft run and everything below it are killed without a chance to deregister.
        pids = run.track() | {run.pid}
        t0 = time.monotonic()
        for p in pids:
            os.kill(p, signal.SIGKILL)
        run.popen.wait(timeout=5)
        assert registered(up, "vm-dies") is not None  # still there: only the TTL can tell
        wait_until(lambda: registered(up, "vm-dies") is None, 5, 0.05, desc="vm-dies expired")
        took = time.monotonic() - t0
        report("heartbeat expiry after the host died (s, TTL 2)", f"{took:.2f}")
        assert 1.0 <= took <= 3.5, took
        wait_until(lambda: up.via("details-v1", "http://ratings:9080/").status_code == 503, 5, 0.1, desc="ratings without endpoints")
    finally:
        run.close()


GROUP = """apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings.default.svc.cluster.local]
  location: MESH_INTERNAL
  ports: [{number: 9080, name: http, protocol: HTTP}]
  resolution: STATIC
  workloadSelector: {labels: {app: ratings}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: ratings, namespace: default}
spec:
  metadata:
    labels: {app: ratings, tier: backend}
  template:
    ports: {http: 9080}
    serviceAccount: ratings
"""


def test_run_as_a_workload_group_member(up, weft_bin, tmp_path, request, report):
    """`weft run --group`: the process joins as Istio's auto-registration does, with no --service: the group's
    template gives its labels and ports, the ServiceEntry selecting them routes to it, and leaving removes it."""
    up.apply(GROUP, weft_bin)
    args = ["run", "--group", "ratings", "--address", "127.0.0.44", "--labels", "version=v5", "--ttl", "2",
            "--control-plane", up.xds, "--server", up.api, "--", "weft-sample", "ratings"]
    run = WeftProcess(weft_bin, args, tmp_path, "group-member", request.node)
    try:
        w = wait_until(lambda: registered(up, "ratings-127.0.0.44"), 30, 0.1,
                       desc=lambda: f"ratings-127.0.0.44 registered; output:\n{run.output()}")
        report("group member's labels", str(w["labels"]))
        assert w["labels"] == {"app": "ratings", "tier": "backend", "version": "v5",
                               "security.istio.io/tlsMode": "istio"}, w
        assert w["ports"] == {"http": 9080} and w["services"] == [], w
        r = wait_until(lambda: (lambda r: r if r.status_code == 200 else None)(up.via("details-v1", "http://ratings:9080/ratings/1")),
                       15, 0.1, desc="ratings answering through the ServiceEntry that selects the group's labels")
        assert r.json()["version"] == "v5", r.text
        assert run.signal(signal.SIGINT) == 0, run.output()
        assert registered(up, "ratings-127.0.0.44") is None
        wait_until(lambda: up.via("details-v1", "http://ratings:9080/ratings/1").status_code == 503, 5, 0.1,
                   desc="ratings without endpoints once the member left")
    finally:
        assert not run.close()
