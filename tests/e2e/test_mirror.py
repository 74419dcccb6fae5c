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
