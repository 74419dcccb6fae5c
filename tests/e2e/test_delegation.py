"""VirtualService delegation (Istio's `delegate`): a root VirtualService hands a path to a delegate
VirtualService (no hosts, maybe another namespace); each delegate route is merged with the root route's match and
policies, and a delegate route whose match falls outside the root's is left out."""

from __future__ import annotations

from helpers import API, service_with_versions, version_of, virtual_service, wait_until

ROOT = virtual_service("""
    - name: api
      match:
      - uri:
          prefix: /api
      delegate:
        name: reviews-api
        namespace: team
      headers:
        response:
          set:
            x-root: api
    - name: rest
      route:
      - destination:
          host: reviews
          subset: v1
    """)

DELEGATE = f"""apiVersion: {API}
kind: VirtualService
metadata:
  name: reviews-api
  namespace: team
spec:
  http:
  - name: v2
    match:
    - uri:
        prefix: /api/v2
    route:
    - destination:
        host: reviews.default
        subset: v2
  - name: outside
    match:
    - uri:
        prefix: /other
    route:
    - destination:
        host: reviews.default
        subset: v2
  - name: all
    route:
    - destination:
        host: reviews.default
        subset: v1
"""


def test_delegate_routes_are_merged_into_the_root(reviews_mesh, report):
    m = reviews_mesh
    m.apply(DELEGATE + "---\n" + ROOT)
    m.wait_synced()
    r = wait_until(lambda: (lambda r: r.headers.get("x-root") == "api" and r)(m.request("reviews", "/api/v2/items")), 10,
                   desc="/api/v2 routed by a delegate route, with the root route's response headers")
    assert version_of(r) == "v2", f"/api/v2 goes where the delegate says: {r.status_code} {r.text[:200]}"
    for _ in range(5):
        assert version_of(m.request("reviews", "/api/v2/items")) == "v2"
    r = m.request("reviews", "/api/other")
    assert version_of(r) == "v1" and r.headers.get("x-root") == "api", \
        "a delegate route without a match takes the root's match"
    r = m.request("reviews", "/other")
    assert version_of(r) == "v1" and "x-root" not in r.headers, \
        "a delegate route outside the root's match is left out (the root's next route answers)"
    names = sorted({rt.get("name", "") for rt in _routes(m)})
    report("merged route names", ", ".join(names))
    assert "api-v2" in names and "api-all" in names and "api-outside" not in names, names

    # Changing only the delegate changes the root's routing.
    edited = DELEGATE.replace("subset: v2\n  - name: outside", "subset: v1\n  - name: outside")
    assert edited != DELEGATE
    m.apply(edited)
    m.wait_synced()
    wait_until(lambda: all(version_of(m.request("reviews", "/api/v2/items")) == "v1" for _ in range(5)), 10,
               desc="an edit of the delegate reaches the root's routes")


def _routes(m) -> list[dict]:
    """The routes of every virtual host in the proxy's config dump (Envoy's and weft proxy's shapes alike)."""
    out: list[dict] = []

    def walk(o):
        if isinstance(o, dict):
            for vh in o.get("virtual_hosts", []) if isinstance(o.get("virtual_hosts"), list) else []:
                out.extend(vh.get("routes", []))
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(m.envoys[0].config_dump())
    return out


def test_status_and_validate_show_delegation(reviews_mesh, tmp_path):
    m = reviews_mesh
    m.apply(DELEGATE + "---\n" + ROOT)
    st = m.run_weft("status", "--server", m.api_addr)
    assert st.returncode == 0 and "delegate team/reviews-api" in st.stdout and "(delegate)" in st.stdout, st.stdout
    # A root route whose delegate does not exist is accepted, left out, and named in a warning.
    missing = ROOT.replace("name: reviews-api", "name: nothing-here")
    path = m.write_input(missing, "missing.yaml")
    offline = m.write_input(service_with_versions("reviews", {"v1": 9081, "v2": 9082}) + "---\n" + missing, "offline.yaml")
    v = m.run_weft("validate", "-f", str(offline))
    assert v.returncode == 0, v.stderr
    assert "warning:" in v.stderr and "spec.http[0].delegate" in v.stderr and "no delegate VirtualService team/nothing-here" in v.stderr, v.stderr
    a = m.run_weft("apply", "-f", str(path), "--server", m.api_addr)
    assert a.returncode == 0 and "no delegate VirtualService team/nothing-here" in a.stderr, a.stderr
