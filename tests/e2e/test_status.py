"""Status API (proxies, acks) and the get/delete CLI."""

from __future__ import annotations

import json

from helpers import TYPE_CLUSTER, TYPE_LISTENER, route_all, wait_until


def test_status_reports_proxy_ack(reviews_mesh):
    m = reviews_mesh
    e = m.envoys[0]
    m.apply(route_all("v1"))
    m.wait_routing("reviews", "v1")

    def acked():
        p = m.proxy_status(e.node)
        if not p or not p.get("connected"):
            return None
        a = p.get("acked") or {}
        return p if a.get(TYPE_CLUSTER) and a.get(TYPE_LISTENER) else None

    p = wait_until(acked, 10, 0.1, desc=lambda: f"status.proxies[{e.node}] connected with CDS+LDS "
                                                f"acked; proxies now: {_proxies(m)}")
    assert p["namespace"] == "default", p
    assert p.get("nack") in (None, ""), p
    st = m.status()
    assert isinstance(st["version"], int), st["version"]
    assert st["errors"] == [], st["errors"]
    # status.resources' shape is not pinned down; when entries carry kind/name, VS must be there
    kinds = {(r.get("kind"), r.get("name")) for r in st.get("resources", []) if isinstance(r, dict)}
    if any(k for k, _ in kinds):
        assert ("VirtualService", "reviews") in kinds, kinds

    # a change bumps the config version and the proxy acks the new state
    before_version = st["version"]
    before_acked = dict(p["acked"])
    m.apply(route_all("v2"))
    m.wait_routing("reviews", "v2")
    assert m.status()["version"] > before_version
    wait_until(lambda: (m.proxy_status(e.node) or {}).get("acked") not in (None, before_acked), 5,
               desc="acked versions changing after an apply")
    # Envoy's own view agrees that the config came from xDS
    dump = e.config_dump()
    if m.dataplane == "envoy":
        assert "dynamic_active_clusters" in json.dumps(dump), "no dynamic clusters in envoy config_dump"
    else:
        assert any(c["name"].startswith("outbound|9080|v2|reviews") for c in dump["clusters"]), dump["clusters"]
        assert dump["xds"]["connected"] is True, dump["xds"]

    # a second proxy shows up with its own id and namespace
    e2 = m.start_envoy(node="other-proxy.prod", namespace="prod")
    p2 = wait_until(lambda: (m.proxy_status(e2.node) or {}).get("connected") and m.proxy_status(e2.node),
                    10, 0.1, desc="second proxy in status")
    assert p2["namespace"] == "prod", p2


def _proxies(m):
    try:
        return m.status().get("proxies")
    except Exception as ex:  # noqa: BLE001 - only for the failure message
        return f"<status failed: {ex}>"


def test_cli_get_delete(reviews_mesh):
    m = reviews_mesh
    cp = m.apply(route_all("v2"))
    assert cp.stdout.strip().splitlines() == ["applied VirtualService default/reviews"], cp.stdout
    m.wait_routing("reviews", "v2")

    cp = m.get("VirtualService", "reviews", output="json")
    assert cp.returncode == 0, cp.stderr
    assert "reviews" in cp.stdout and "v2" in cp.stdout, cp.stdout
    json.loads(cp.stdout)  # -o json prints JSON

    cp = m.get("VirtualService", "reviews", output="yaml")
    assert cp.returncode == 0 and "subset: v2" in cp.stdout, cp.stdout + cp.stderr

    cp = m.get("ServiceEntry")
    assert cp.returncode == 0 and "reviews" in cp.stdout, cp.stdout + cp.stderr

    cp = m.delete("VirtualService", "reviews")
    assert cp.returncode == 0, cp.stderr
    assert not m.resources(kind="VirtualService", namespace="default", name="reviews")
    cp = m.delete("VirtualService", "reviews")
    assert cp.returncode != 0, "deleting a missing resource must fail"
    r = m.api("DELETE", "/api/v1/resources/VirtualService/default/reviews")
    assert r.status_code == 404, r.status_code

    # without a VirtualService, requests reach every endpoint of the service
    seen: set[str] = set()
    wait_until(lambda: seen.update(m.sample("reviews", 10)) or {"v1", "v2"} <= seen, 10, 0.05,
               desc=lambda: f"both versions answering after the VirtualService is gone (seen {seen})")
    assert seen <= {"v1", "v2"}, seen
