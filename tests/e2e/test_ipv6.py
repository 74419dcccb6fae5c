"""Everything on [::1]: control plane, xDS, Envoy listener and admin, upstream."""

from __future__ import annotations

import pytest

from helpers import LOCAL6, hostport, ipv6_loopback_problem, route_all, version_of


def test_ipv6(make_mesh):
    problem = ipv6_loopback_problem()
    if problem:
        pytest.fail(f"test_ipv6 needs IPv6 on loopback: {problem}", pytrace=False)

    m = make_mesh(host=LOCAL6)
    assert m.api_addr.startswith("[::1]:") and m.xds_addr.startswith("[::1]:")
    m.reviews(versions=("v1",))  # upstream on ::1, WorkloadEntry address "::1"
    assert m.upstreams[0].host == LOCAL6
    m.apply(route_all("v1"))
    e = m.start_envoy()
    assert e.outbound == hostport(LOCAL6, e.outbound_port)
    m.wait_routing("reviews", "v1", timeout=10)
    r = m.request("reviews", "/six")
    assert version_of(r) == "v1" and r.json()["path"] == "/six", r.text[:200]
    r = e.request_via_proxy("http://reviews:9080/six-abs")
    assert version_of(r) == "v1", r.text[:200]
    st = m.status()
    assert any(p.get("id") == e.node and p.get("connected") for p in st["proxies"]), st["proxies"]
