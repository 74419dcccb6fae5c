"""Traffic management through a real Envoy: splits, matches, faults, redirects, rewrites."""

from __future__ import annotations

from urllib.parse import urlparse

from helpers import (
    LOCAL4, free_port, hostport, route_all, route_split, session, version_of, virtual_service,
    wait_until,
)


def _v2_share(m, weights: dict[str, int], n: int = 400) -> float:
    """Applies a v1/v2 split, waits until both versions answer, then samples n requests: the v2 share."""
    m.apply(route_split(weights))
    seen: set[str] = set()

    def both_seen():
        seen.add(version_of(m.request("reviews")))
        return {"v1", "v2"} <= seen

    wait_until(both_seen, 10, 0.01, desc=lambda: f"both v1 and v2 answering ({weights}), seen {seen}")
    counts = m.sample("reviews", n)
    assert counts["v1"] + counts["v2"] == n, f"non-upstream answers: {counts}"
    return counts["v2"] / n


def test_split(reviews_mesh, report):
    share = _v2_share(reviews_mesh, {"v1": 80, "v2": 20})
    report("v2 share of 400 requests (want 0.20 +/- 0.07)", f"{share:.3f}")
    assert abs(share - 0.20) <= 0.07, f"v2 share {share:.3f} not within 0.20 +/- 0.07"


def test_weights_that_do_not_add_up_to_100_are_shares_of_their_total(reviews_mesh, report):
    """Istio normalises route weights: 3 and 1 send three quarters and one quarter."""
    share = _v2_share(reviews_mesh, {"v1": 3, "v2": 1})
    report("v2 share of 400 requests with weights 3:1 (want 0.25 +/- 0.08)", f"{share:.3f}")
    assert abs(share - 0.25) <= 0.08, f"v2 share {share:.3f} not within 0.25 +/- 0.08"


def test_host_forms_and_unknown_host(reviews_mesh):
    m = reviews_mesh
    m.apply(route_all("v2"))
    m.wait_routing("reviews", "v2")
    e = m.envoys[0]
    for host in ["reviews", "reviews:9080", "reviews.default", "reviews.default:9080",
                 "reviews.default.svc.cluster.local", "reviews.default.svc.cluster.local:9080"]:
        r = e.request(host, "/hello")
        assert version_of(r) == "v2", f"Host: {host} -> {r.status_code} {r.text[:200]}"
        assert r.json()["path"] == "/hello"
    # absolute-form, outbound listener used as an explicit HTTP proxy
    for url in ["http://reviews:9080/abs", "http://reviews.default.svc.cluster.local:9080/abs"]:
        r = e.request_via_proxy(url)
        assert version_of(r) == "v2", f"proxy GET {url} -> {r.status_code} {r.text[:200]}"
        assert r.json()["path"] == "/abs"
    r = e.request("no-such-service.default.svc.cluster.local", "/")
    assert r.status_code == 404, f"unknown host -> {r.status_code}, want 404"


def test_header_match(reviews_mesh):
    m = reviews_mesh
    m.apply(virtual_service("""
        - match:
          - headers:
              end-user:
                exact: jason
          route:
          - destination:
              host: reviews
              subset: v2
        - route:
          - destination:
              host: reviews
              subset: v1
        """))
    m.wait_routing("reviews", "v2", headers={"end-user": "jason"})
    jason = m.sample("reviews", 50, headers={"end-user": "jason"})
    others = m.sample("reviews", 50, headers={"end-user": "bob"})
    anonymous = m.sample("reviews", 50)
    assert jason == {"v2": 50}, f"end-user: jason -> {dict(jason)}"
    assert others == {"v1": 50}, f"end-user: bob -> {dict(others)}"
    assert anonymous == {"v1": 50}, f"no end-user -> {dict(anonymous)}"
    # header reaches the upstream untouched
    r = m.request("reviews", "/", headers={"end-user": "jason"})
    assert r.json()["headers"].get("end-user") == "jason"


def _abort_vs(percent: float) -> str:
    return virtual_service(f"""
        - fault:
            abort:
              httpStatus: 503
              percentage:
                value: {percent}
          route:
          - destination:
              host: reviews
              subset: v1
        """)


def test_fault_abort(reviews_mesh, report):
    m = reviews_mesh
    m.apply(route_all("v1"))
    m.wait_routing("reviews", "v1")

    m.apply(_abort_vs(100))
    m.wait_routing("reviews", "HTTP 503")
    all_abort = m.sample("reviews", 100)
    assert all_abort == {"HTTP 503": 100}, f"abort 100%: {dict(all_abort)}"
    before = len(m.ups["v1"].requests)
    assert m.sample("reviews", 10) == {"HTTP 503": 10}
    assert len(m.ups["v1"].requests) == before, "aborted requests must not reach the upstream"

    m.apply(_abort_vs(50))
    wait_until(lambda: "v1" in m.sample("reviews", 20), 10, 0.05,
               desc="some requests passing once abort is 50%")
    n = 300
    half = m.sample("reviews", n)
    assert half["v1"] + half["HTTP 503"] == n, f"unexpected answers: {dict(half)}"
    share = half["HTTP 503"] / n
    report("aborted share at 50% (want 0.50 +/- 0.12)", f"{share:.3f}")
    assert abs(share - 0.50) <= 0.12, f"aborted share {share:.3f} not 0.50 +/- 0.12: {dict(half)}"


def test_redirect_rewrite_headers(reviews_mesh):
    m = reviews_mesh
    cp = m.apply(virtual_service("""
        - match:
          - uri:
              prefix: /old
          redirect:
            uri: /new
        - match:
          - uri:
              prefix: /api/
          rewrite:
            uri: /internal/
          route:
          - destination:
              host: reviews
              subset: v1
        - match:
          - uri:
              prefix: /delay/
          timeout: 0.5s
          route:
          - destination:
              host: reviews
              subset: v1
        - match:
          - uri:
              prefix: /flaky/
          retries:
            attempts: 3
            perTryTimeout: 2s
            retryOn: 5xx
          route:
          - destination:
              host: reviews
              subset: v1
        - headers:
            request:
              set:
                x-weft-test: hello
            response:
              add:
                x-weft-resp: world
          timeout: 5s
          retries:
            attempts: 2
            perTryTimeout: 1s
            retryOn: gateway-error,connect-failure
          route:
          - destination:
              host: reviews
              subset: v2
        """))
    assert "VirtualService default/reviews" in cp.stdout, cp.stdout
    m.wait_routing("reviews", "v2", path="/plain")

    # redirect
    r = m.request("reviews", "/old")
    assert r.status_code == 301, f"redirect: {r.status_code} {r.headers} {r.text[:200]}"
    loc = r.headers.get("location", "")
    assert urlparse(loc).path == "/new", f"Location {loc!r}, want path /new"

    # prefix rewrite: the upstream sees the rewritten path
    r = m.request("reviews", "/api/items/7?x=1")
    assert version_of(r) == "v1", r.text[:200]
    assert r.json()["path"] == "/internal/items/7?x=1", r.json()["path"]

    # header manipulation on the catch-all route
    r = m.request("reviews", "/plain")
    assert version_of(r) == "v2"
    assert r.json()["headers"].get("x-weft-test") == "hello", r.json()["headers"]
    assert r.headers.get("x-weft-resp") == "world", dict(r.headers)
    r = m.request("reviews", "/plain", headers={"x-weft-test": "overwrite-me"})
    assert r.json()["headers"].get("x-weft-test") == "hello", "set must replace the client's value"

    # route timeout 0.5s: a 2 s upstream answer becomes Envoy's 504
    r = m.request("reviews", "/delay/2000", timeout=10)
    assert r.status_code == 504, f"timeout route: {r.status_code} {r.text[:200]}"
    r = m.request("reviews", "/delay/10")
    assert version_of(r) == "v1"

    # retries: upstream fails twice for this key, the third attempt succeeds
    before = sum(1 for q in m.ups["v1"].requests if q["path"].startswith("/flaky/k1/"))
    r = m.request("reviews", "/flaky/k1/2", timeout=10)
    assert version_of(r) == "v1", f"retried request: {r.status_code} {r.text[:200]}"
    hits = sum(1 for q in m.ups["v1"].requests if q["path"].startswith("/flaky/k1/")) - before
    assert hits == 3, f"upstream saw {hits} attempts, want 3 (2 failures + 1 success)"

    # the fields are in Envoy's config
    if m.dataplane != "envoy":
        return
    dump = m.envoys[0].config_dump()
    policies = list(_find_key(dump, "retry_policy"))
    assert any(str(p.get("num_retries")) == "3" for p in policies), policies
    assert any(str(p.get("num_retries")) == "2" for p in policies), policies


def _find_key(obj, key):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == key:
                yield v
            yield from _find_key(v, key)
    elif isinstance(obj, list):
        for v in obj:
            yield from _find_key(v, key)


def test_inbound_listener(mesh):
    """--inbound LISTEN=APP: the sidecar's inbound listener forwards to the local app."""
    app = mesh.upstream("details", "v1")
    listen = free_port()
    mesh.start_envoy(labels={"app": "details", "version": "v1"},
                     inbound=f"{hostport(LOCAL4, listen)}={hostport(LOCAL4, app.port)}")

    def through_inbound():
        with session() as s:
            r = s.get(f"http://{hostport(LOCAL4, listen)}/in", headers={"Host": "details"}, timeout=3)
        return r if r.status_code == 200 else None

    r = wait_until(through_inbound, 10, 0.1, desc="inbound listener forwarding to the app")
    assert r.json()["path"] == "/in" and r.json()["service"] == "details", r.text[:200]
