"""Workload registration API: TTL, heartbeats, deletion, ServiceEntry workloadSelector."""

from __future__ import annotations

import threading
import time

from helpers import service_entry, version_of, wait_until


def _workload(name: str, port: int, ttl: int = 2, services: bool = True, version: str = "v1",
              app: str = "ratings") -> dict:
    w = {
        "name": name,
        "namespace": "default",
        "addresses": ["127.0.0.1"],
        "labels": {"app": app, "version": version},
        "ports": {"http": port},
        "ttlSeconds": ttl,
    }
    if services:
        w["services"] = [{"name": app, "port": 9080, "targetPort": port, "protocol": "HTTP"}]
    return w


def _heartbeat(mesh, name: str) -> int:
    return mesh.api("PUT", f"/api/v1/workloads/default/{name}/heartbeat").status_code


def test_registration_ttl(mesh, report):
    m = mesh
    ratings = m.upstream("ratings", "v1")
    m.start_envoy()

    r = m.api("POST", "/api/v1/workloads", _workload("ratings-vm-1", ratings.port))
    assert r.status_code in (200, 201), f"{r.status_code} {r.text}"
    listed = m.api("GET", "/api/v1/workloads").json()
    assert "ratings-vm-1" in str(listed), listed
    assert _heartbeat(m, "no-such-workload") == 404

    m.wait_routing("ratings", "v1", timeout=5)
    r = m.request("ratings", "/reg")
    assert r.json()["service"] == "ratings" and r.json()["path"] == "/reg"

    # sub-check 1: heartbeating keeps it alive well past the TTL
    stop = threading.Event()
    beats: list[int] = []

    def beat():
        while not stop.is_set():
            beats.append(_heartbeat(m, "ratings-vm-1"))
            stop.wait(0.5)

    hb = threading.Thread(target=beat, name="heartbeat", daemon=True)
    hb.start()
    try:
        end = time.monotonic() + 5.0  # 2.5 x TTL
        answers = []
        while time.monotonic() < end:
            answers.append(version_of(m.request("ratings", "/alive", timeout=3)))
            time.sleep(0.05)
    finally:
        stop.set()
        hb.join(5)
    assert beats and all(b in (200, 204) for b in beats), f"heartbeat statuses: {beats}"
    bad = [a for a in answers if a != "v1"]
    assert not bad, f"{len(bad)} of {len(answers)} requests failed while heartbeating: {bad[:5]}"

    # sub-check 2: without heartbeats the workload leaves the endpoints
    t_last = time.monotonic()
    m.wait_routing("ratings", "HTTP 503", timeout=6, streak=3)
    gone = time.monotonic() - t_last
    report("TTL 2 s expiry -> 503", f"{gone:.2f} s after the last heartbeat")
    assert gone <= 4.5, f"workload still served {gone:.2f}s after its last heartbeat (TTL 2 s)"


def test_registration_delete(mesh):
    m = mesh
    ratings = m.upstream("ratings", "v1")
    m.start_envoy()
    r = m.api("POST", "/api/v1/workloads", _workload("ratings-vm-2", ratings.port, ttl=60))
    assert r.status_code in (200, 201), f"{r.status_code} {r.text}"
    m.wait_routing("ratings", "v1", timeout=5)
    r = m.api("DELETE", "/api/v1/workloads/default/ratings-vm-2")
    assert r.status_code in (200, 204), f"{r.status_code} {r.text}"
    m.wait_routing("ratings", "HTTP 503", timeout=3)
    assert "ratings-vm-2" not in str(m.api("GET", "/api/v1/workloads").json())


def test_registration_selected_by_service_entry(mesh):
    """A workload registered without `services` joins ServiceEntries whose selector matches."""
    m = mesh
    v3 = m.upstream("reviews", "v3")
    m.apply(service_entry("reviews"))
    m.start_envoy()
    r = m.api("POST", "/api/v1/workloads",
              _workload("reviews-vm-3", v3.port, ttl=60, services=False, version="v3", app="reviews"))
    assert r.status_code in (200, 201), f"{r.status_code} {r.text}"
    m.wait_routing("reviews", "v3", timeout=5)
    # a workload whose labels do not match stays out
    other = m.upstream("reviews", "other")
    r = m.api("POST", "/api/v1/workloads",
              _workload("details-vm", other.port, ttl=60, services=False, app="details"))
    assert r.status_code in (200, 201), f"{r.status_code} {r.text}"
    m.wait_synced()  # the registration has reached the proxy (or changed nothing for it)
    assert m.sample("reviews", 20) == {"v3": 20}
    status = m.status()
    assert "reviews-vm-3" in str(status.get("workloads")), status.get("workloads")


GROUP = """apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata:
  name: ratings
  namespace: default
spec:
  metadata:
    labels:
      app: ratings
      tier: backend
  template:
    ports:
      http: {port}
    serviceAccount: ratings-sa
    labels:
      version: v1
"""


def test_workload_group_auto_registration(mesh, report):
    """Istio's auto-registration without Kubernetes: a process registers with a WorkloadGroup's name and becomes a
    WorkloadEntry built from the group's template, which the ServiceEntry selecting those labels routes to; it
    is gone when its registration expires."""
    m = mesh
    ratings = m.upstream("ratings", "v7")
    m.start_envoy()
    m.apply(service_entry("ratings") + "---\n" + GROUP.format(port=ratings.port))

    r = m.api("POST", "/api/v1/workloads", {"group": "nosuch", "namespace": "default", "addresses": ["127.0.0.1"]})
    assert r.status_code == 400 and "no WorkloadGroup default/nosuch" in r.text, r.text

    # Only the group and an address: labels, ports and service account come from the template.
    r = m.api("POST", "/api/v1/workloads", {"group": "ratings", "namespace": "default", "addresses": ["127.0.0.1"],
                                             "labels": {"version": "v7"}, "ttlSeconds": 2})
    assert r.status_code == 200, r.text
    assert r.json()["registered"] == "default/ratings-127.0.0.1", r.json()
    m.wait_routing("ratings", "v7", timeout=10)
    assert m.request("ratings", "/group").json()["path"] == "/group"

    entries = m.api("GET", "/api/v1/resources?kind=WorkloadEntry").json()["resources"]
    we = next(e for e in entries if e["name"] == "ratings-127.0.0.1")
    doc = we["document"]
    report("auto-registered WorkloadEntry", str(doc["spec"]))
    assert doc["metadata"]["annotations"] == {"istio.io/autoRegistrationGroup": "ratings"}
    assert doc["spec"]["labels"] == {"app": "ratings", "tier": "backend", "version": "v7"}, "registrant's labels win"
    assert doc["spec"]["ports"] == {"http": ratings.port} and doc["spec"]["serviceAccount"] == "ratings-sa"
    got = m.get("workloadentries")
    assert got.returncode == 0 and "ratings-127.0.0.1" in got.stdout, got.stdout + got.stderr

    # No heartbeat: the registration expires, the entry goes, callers get 503.
    def gone():
        left = m.api("GET", "/api/v1/resources?kind=WorkloadEntry").json()["resources"]
        return not any(e["name"] == "ratings-127.0.0.1" for e in left) and m.request("ratings", "/after").status_code == 503
    wait_until(gone, 10, desc="the auto-registered entry removed when its registration expired")
