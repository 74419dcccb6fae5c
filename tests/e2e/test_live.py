"""Config changes while traffic flows: live updates, refused input, config folder, restarts."""

from __future__ import annotations

import json
import os
import re
import threading
import time

import requests

from helpers import (
    docs, route_all, service_with_versions, virtual_service, wait_until,
    version_of,
)

BAD_WEIGHT_VS = virtual_service("""
    - route:
      - destination:
          host: reviews
          subset: v2
        weight: -50
    """)
WEIGHT_PATH = "spec.http[0].route[0].weight"


def _vs_spec(mesh, name="reviews"):
    rs = mesh.resources(kind="VirtualService", namespace="default", name=name)
    assert len(rs) == 1, f"GET resources VirtualService default/{name}: {rs}"
    return rs[0]["spec"]


def _subsets(spec) -> list[str]:
    return [d["destination"].get("subset") for h in spec["http"] for d in h["route"]]


def test_live_update(reviews_mesh, report):
    m = reviews_mesh
    e = m.envoys[0]
    m.apply(route_all("v1"))
    m.wait_routing("reviews", "v1")
    pid = e.pid

    results: list[tuple[float, float, str]] = []  # (sent, answered, version or error)
    stop = threading.Event()

    def send_forever():
        deadline = time.monotonic() + 30  # bounded even if the test dies
        while not stop.is_set() and time.monotonic() < deadline:
            t0 = time.monotonic()
            try:
                label = version_of(e.request("reviews", "/live", timeout=3))
            except requests.RequestException as ex:
                label = f"error {type(ex).__name__}: {ex}"
            results.append((t0, time.monotonic(), label))

    sender = threading.Thread(target=send_forever, name="live-traffic", daemon=True)
    sender.start()
    try:
        wait_until(lambda: len(results) >= 20, 10, desc="background traffic flowing")
        t_apply = time.monotonic()
        cp = m.apply(route_all("v2"))
        t_applied = time.monotonic()
        assert "applied VirtualService default/reviews" in cp.stdout, cp.stdout
        wait_until(lambda: any(r[2] == "v2" for r in list(results)), 5,
                   desc="a response from v2 after the apply")
        first = next(i for i, r in enumerate(list(results)) if r[2] == "v2")
        wait_until(lambda: len(results) >= first + 50, 10, desc="50 more requests after the switch")
    finally:
        stop.set()
        sender.join(10)
    snap = list(results)

    failures = [r for r in snap if r[2] not in ("v1", "v2")]
    assert not failures, f"{len(failures)} of {len(snap)} requests failed during the update, " \
                         f"first: {failures[:5]}"
    first = next(i for i, r in enumerate(snap) if r[2] == "v2")
    converge = snap[first][1] - t_apply
    report("live update convergence (weft apply start -> first v2 answer)", f"{converge * 1000:.0f} ms")
    report("weft apply CLI duration", f"{(t_applied - t_apply) * 1000:.0f} ms")
    report("requests during live update", f"{len(snap)} sent, {len(failures)} failed")
    assert converge < 1.0, f"took {converge:.3f}s for routing to reach v2"
    late_v1 = [r for r in snap[first + 1:] if r[2] != "v2"]
    assert not late_v1, f"after the first v2 answer, {len(late_v1)} answers were not v2: {late_v1[:5]}"
    assert e.proc.alive() and e.pid == pid, "envoy was restarted or died"
    if m.dataplane == "envoy":
        info = e.admin("/server_info").json()
        assert info.get("state") == "LIVE", info.get("state")
    else:
        assert e.admin("/ready").text.strip() == "LIVE"


def test_refused_config_keeps_routing(reviews_mesh):
    m = reviews_mesh
    m.apply(route_all("v1"))
    m.wait_routing("reviews", "v1")
    spec_before = _vs_spec(m)
    assert _subsets(spec_before) == ["v1"]
    version_before = m.status()["version"]

    cp = m.apply(BAD_WEIGHT_VS, filename="bad.yaml", check=False)
    assert cp.returncode == 1, f"exit {cp.returncode}, want 1\nstdout:{cp.stdout}\nstderr:{cp.stderr}"
    assert WEIGHT_PATH in cp.stderr, cp.stderr
    line = re.compile(r"bad\.yaml: VirtualService default/reviews: "
                      + re.escape(WEIGHT_PATH) + r": \S")
    assert any(line.search(l) for l in cp.stderr.splitlines()), \
        f"no line like 'bad.yaml: VirtualService default/reviews: {WEIGHT_PATH}: ...':\n{cp.stderr}"

    # one bad document refuses the whole input: the good VS in the same file is not applied
    mixed = docs(route_all("v2"), virtual_service("""
        - route:
          - destination:
              host: reviews
              subset: v1
            weight: -5
        """, name="reviews-other"))
    cp = m.apply(mixed, filename="mixed.yaml", check=False)
    assert cp.returncode == 1, f"exit {cp.returncode}\n{cp.stdout}\n{cp.stderr}"
    assert "VirtualService default/reviews-other" in cp.stderr, cp.stderr

    # the same refusal through the HTTP API
    r = m.api("POST", "/api/v1/apply", BAD_WEIGHT_VS, headers={"X-Weft-Source": "api-bad.yaml"})
    assert r.status_code == 400, f"{r.status_code} {r.text}"
    errors = r.json()["errors"]
    assert errors and any(WEIGHT_PATH in e for e in errors), errors

    # nothing changed: traffic, stored spec, config version
    assert m.sample("reviews", 30) == {"v1": 30}
    assert _vs_spec(m) == spec_before
    assert not m.resources(kind="VirtualService", namespace="default", name="reviews-other")
    assert m.status()["version"] == version_before


def test_config_dir_watch(mesh, report):
    m = mesh
    ups = {v: m.upstream("reviews", v) for v in ("v1", "v2")}
    m.write_config("reviews.yaml", service_with_versions("reviews", {v: u.port for v, u in ups.items()}))
    m.write_config("vs.yaml", route_all("v1"))
    m.start_envoy()
    m.wait_routing("reviews", "v1", timeout=10)

    t0 = time.monotonic()
    m.write_config("vs.yaml", route_all("v2"))
    m.wait_routing("reviews", "v2", timeout=5, streak=1)
    dt = time.monotonic() - t0
    report("config folder edit -> routing", f"{dt * 1000:.0f} ms")
    assert dt < 1.0, f"routing followed the edited file after {dt:.3f}s, want < 1 s"
    assert m.sample("reviews", 20) == {"v2": 20}

    # new .json files are picked up too (one resource per file)
    ratings = m.upstream("ratings", "v1")
    se = json.dumps(_yaml_to_obj_service_entry("ratings"))
    we = json.dumps({
        "apiVersion": "networking.istio.io/v1", "kind": "WorkloadEntry",
        "metadata": {"name": "ratings-1", "namespace": "default"},
        "spec": {"address": "127.0.0.1", "ports": {"http": ratings.port},
                 "labels": {"app": "ratings", "version": "v1"}},
    })
    m.write_config("ratings-se.json", se)
    m.write_config("ratings-we.json", we)
    m.wait_routing("ratings", "v1", timeout=5)

    # a bad file is refused, reported in status, and routing stays
    m.write_config("bad.yaml", virtual_service("""
        - route:
          - destination:
              host: reviews
              subset: v1
            weight: -50
        """, name="reviews-broken"))
    errs = wait_until(lambda: [e for e in m.status()["errors"] if "bad.yaml" in str(e)], 5,
                      desc="status errors naming bad.yaml")
    assert any("weight" in str(e) for e in errs), errs
    assert m.sample("reviews", 20) == {"v2": 20}
    assert not m.resources(kind="VirtualService", namespace="default", name="reviews-broken")

    m.write_config("broken.yml", "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
                                 "metadata: {name: x, namespace: default\nspec: [\n")
    wait_until(lambda: any("broken.yml" in str(e) for e in m.status()["errors"]), 5,
               desc="status errors naming broken.yml")
    assert m.sample("reviews", 20) == {"v2": 20}
    assert version_of(m.request("ratings")) == "v1"

    # removing the bad files clears the errors
    os.remove(m.config_dir / "bad.yaml")
    os.remove(m.config_dir / "broken.yml")
    wait_until(lambda: m.status()["errors"] == [], 5, desc="status errors empty again")
    assert m.sample("reviews", 20) == {"v2": 20}

    # removing a file removes its resources: ratings loses its only endpoint
    os.remove(m.config_dir / "ratings-we.json")
    m.wait_routing("ratings", "HTTP 503", timeout=5)


def _yaml_to_obj_service_entry(name: str) -> dict:
    return {
        "apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "hosts": [f"{name}.default.svc.cluster.local"],
            "location": "MESH_INTERNAL",
            "ports": [{"number": 9080, "name": "http", "protocol": "HTTP"}],
            "resolution": "STATIC",
            "workloadSelector": {"labels": {"app": name}},
        },
    }


def test_restart_serves_from_store(mesh):
    m = mesh
    ups = {v: m.upstream("reviews", v) for v in ("v1", "v2")}
    body = docs(service_with_versions("reviews", {v: u.port for v, u in ups.items()}),
                route_all("v2"))
    r = m.api("POST", "/api/v1/apply", body, headers={"X-Weft-Source": "restart.yaml"})
    assert r.status_code == 200, f"{r.status_code} {r.text}"
    applied = {(a["kind"], a["namespace"], a["name"]) for a in r.json()["applied"]}
    assert ("VirtualService", "default", "reviews") in applied, applied
    assert ("ServiceEntry", "default", "reviews") in applied, applied
    assert len(applied) == 5, applied  # SE, 2 x WE, DR, VS

    old = m.start_envoy()
    m.wait_routing("reviews", "v2", envoy=old)

    code = m.stop_control_plane()
    print(f"weft control exit code after SIGTERM: {code}")
    # Envoy keeps serving its last config while the control plane is gone
    assert m.sample("reviews", 20, envoy=old) == {"v2": 20}

    empty = m.tmp / "config-empty"
    empty.mkdir()
    m.start_control_plane(config_dir=empty)
    rs = m.resources(kind="VirtualService", namespace="default", name="reviews")
    assert len(rs) == 1 and _subsets(rs[0]["spec"]) == ["v2"], rs
    assert "restart.yaml" in str(rs[0].get("source")), rs[0].get("source")
    assert len(m.resources(namespace="default")) == 5

    new = m.start_envoy()
    m.wait_routing("reviews", "v2", envoy=new, timeout=10)
    assert m.sample("reviews", 20, envoy=new) == {"v2": 20}

    # the old Envoy reconnects (its gRPC backoff can take a while) and follows changes
    wait_until(lambda: (m.proxy_status(old.node) or {}).get("connected"), 45, 0.25,
               desc=f"old envoy {old.node} reconnected (status.proxies)")
    assert m.sample("reviews", 20, envoy=old) == {"v2": 20}
    r = m.api("POST", "/api/v1/apply", route_all("v1"))
    assert r.status_code == 200, r.text
    m.wait_routing("reviews", "v1", envoy=old, timeout=10)
    m.wait_routing("reviews", "v1", envoy=new, timeout=10)
    assert old.proc.alive() and new.proc.alive()
