"""Traffic mirroring: a copy of each request goes to another subset; the caller sees only the primary."""

from __future__ import annotations

from helpers import version_of, virtual_service, wait_until


def test_mirror_copies_requests_to_the_shadow(reviews_mesh, report):
    m = reviews_mesh
    m.apply(virtual_service("""
        - route:
          - destination:
              host: reviews
              subset: v1
          mirror:
            host: reviews
            subset: v2
          mirrorPercentage:
            value: 100
        """))
    m.wait_routing("reviews", "v1")
    before = len(m.ups["v2"].requests)
    n = 40
    for i in range(n):
        r = m.request("reviews", f"/mirror/{i}", method="POST", data=b"payload-%d" % i)
        assert version_of(r) == "v1", f"the caller must only see the primary: {r.status_code} {r.text[:200]}"

    def copies():
        return [q for q in m.ups["v2"].requests[before:] if q["path"].startswith("/mirror/")]

    got = wait_until(lambda: len(copies()) >= n and copies(), 5, desc=f"{n} mirrored copies at v2")
    report("mirrored copies received by the shadow", f"{len(got)} of {n}")
    hosts = {q["headers"].get("host", "") for q in got}
    assert all(h.startswith("reviews-shadow") for h in hosts), hosts


def _two_mirrors(v3_percentage: str) -> str:
    """reviews to v1, mirrored to v2 (all requests) and to v3 (`v3_percentage`: extra YAML under that mirror)."""
    return virtual_service(f"""
        - route:
          - destination:
              host: reviews
              subset: v1
          mirrors:
          - destination:
              host: reviews
              subset: v2
          - destination:
              host: reviews
              subset: v3
{v3_percentage}
        """)


def test_several_mirrors_each_get_their_share(mesh, report):
    """Istio's `mirrors`: every mirror gets its own copy, at its own percentage (unset = all requests)."""
    m = mesh
    m.ups = m.reviews(versions=("v1", "v2", "v3"))
    m.start_envoy()
    m.apply(_two_mirrors("            percentage:\n              value: 0"))
    m.wait_routing("reviews", "v1")
    before = {v: len(m.ups[v].requests) for v in ("v2", "v3")}
    n = 30
    for i in range(n):
        r = m.request("reviews", f"/mirrors/{i}")
        assert version_of(r) == "v1", f"the caller must only see the primary: {r.status_code} {r.text[:200]}"

    def copies(v):
        return [q for q in m.ups[v].requests[before[v]:] if q["path"].startswith("/mirrors/")]

    wait_until(lambda: len(copies("v2")) >= n, 5, desc=f"{n} copies at v2")
    m.apply(_two_mirrors(""))
    m.wait_synced()
    for i in range(n):
        assert version_of(m.request("reviews", f"/mirrors/b{i}")) == "v1"
    wait_until(lambda: len([q for q in copies("v3") if q["path"].startswith("/mirrors/b")]) >= n, 5,
               desc=f"{n} copies at v3 once its percentage is unset")
    wait_until(lambda: len([q for q in copies("v2") if q["path"].startswith("/mirrors/b")]) >= n, 5,
               desc=f"{n} more copies at v2")
    report("copies at v2 / v3 (v3 at 0% first, then unset)", f"{len(copies('v2'))} / {len(copies('v3'))}")
    assert not [q for q in copies("v3") if not q["path"].startswith("/mirrors/b")], "v3 at 0% must get no copy"
