"""Istio AuthorizationPolicy (security.istio.io/v1) at the destination workload's sidecar, on both data planes,
over real mTLS identities. Each test starts one target (and its callers) per data plane, then walks tables:
a policy set applied live, and the status every (caller, method, path, headers) must get. Expectations follow
Istio's documented semantics and are the same for Envoy and weft proxy:

- CUSTOM, then DENY (any match denies), then ALLOW: no ALLOW policy allows; else some ALLOW must match;
- AUDIT policies and dry-run policies (annotation istio.io/dry-run: "true") never decide; a dry-run decision is
  counted in the proxy's `*shadow_denied` stat;
- an ALLOW policy without rules (`spec: {}`) allows nothing, `rules: [{}]` allows everything, a DENY without rules
  denies nothing;
- mesh-wide (root namespace istio-system, no selector), namespace (no selector) and workload (selector) policies
  all apply together;
- a denied HTTP request gets 403 `RBAC: access denied`; a denied TCP connection is closed.
"""

from __future__ import annotations

import socket
import threading
import time

import requests

from authz_helpers import (
    ROOT_NS, Case, PolicySet, authorization_policy, cond, expect_table, outcome, plaintext_to, principal, rule,
    shadow_denied, via_sidecar, wait_mtls,
)
from helpers import docs, free_port, hostport, raise_now, session, wait_until
from mtls import peer_authentication, sidecar_workload
from upstream import TcpEcho

REVIEWS = "reviews.default.svc.cluster.local"
RATINGS = "ratings.default.svc.cluster.local"
SEL_REVIEWS = {"app": "reviews"}
SEL_RATINGS = {"app": "ratings"}


def ap(name: str, ns: str = "default", **kw) -> str:
    return authorization_policy(name, ns, **kw)


def _callers(m, spec: dict[str, tuple[str, str]], targets: list[str]) -> dict:
    """Start one sidecar per caller (name -> (service account, namespace)) and wait until each reaches every
    target over mTLS with its own identity (no policy yet). Returns name -> proxy."""
    proxies = {name: m.start_envoy(node=f"{name}.{ns}", namespace=ns, labels={"app": name}, service_account=sa)
               for name, (sa, ns) in spec.items()}
    m.wait_synced()
    for name, (sa, ns) in spec.items():
        for host in targets:
            wait_mtls(proxies[name], host, sa, ns)
    return proxies


def _each(expect: dict[str, int], path: str = "/", method: str = "GET", headers: dict[str, str] | None = None,
          target: str | None = None, tag: str = "") -> list[Case]:
    """One case per caller: {caller: expected status}."""
    return [Case(f"{tag or method + ' ' + path} from {c}", c, s, path=path, method=method, headers=dict(headers or {}),
                 target=target) for c, s in expect.items()]


# ---------------------------------------------------------------- who: principals and namespaces

def test_source_principals_and_namespaces(mesh, dataplane):
    m = mesh
    w = sidecar_workload(m, "reviews", "reviews", dataplane)
    proxies = _callers(m, {"front": ("front", "default"), "other": ("other", "default"),
                           "shopper": ("shopper", "shop")}, [REVIEWS])
    callers = {n: via_sidecar(p) for n, p in proxies.items()}
    callers["plain"] = plaintext_to(m.host, w.inbound_port)  # no sidecar, so no peer identity
    front, other = principal("front"), principal("other")
    pol = PolicySet(m)

    def allow(*rules: dict) -> str:
        return ap("reviews-allow", action="ALLOW", selector=SEL_REVIEWS, rules=list(rules))

    def deny(*rules: dict) -> str:
        return ap("reviews-deny", action="DENY", selector=SEL_REVIEWS, rules=list(rules))

    tables = [
        ("no policy: everyone", [],
         _each({"front": 200, "other": 200, "shopper": 200, "plain": 200})),
        ("ALLOW an exact principal", [allow(rule(frm={"principals": [front]}))],
         _each({"front": 200, "other": 403, "shopper": 403, "plain": 403})),
        ("ALLOW a principal by suffix (*/sa/shopper)", [allow(rule(frm={"principals": ["*/sa/shopper"]}))],
         _each({"front": 403, "other": 403, "shopper": 200, "plain": 403})),
        ("ALLOW principals by prefix (cluster.local/ns/default/*)",
         [allow(rule(frm={"principals": ["cluster.local/ns/default/*"]}))],
         _each({"front": 200, "other": 200, "shopper": 403, "plain": 403})),
        ("ALLOW any authenticated principal (*)", [allow(rule(frm={"principals": ["*"]}))],
         _each({"front": 200, "other": 200, "shopper": 200, "plain": 403})),
        ("ALLOW notPrincipals", [allow(rule(frm={"notPrincipals": [other]}))],
         _each({"front": 200, "other": 403, "shopper": 200})),
        ("ALLOW a namespace", [allow(rule(frm={"namespaces": ["shop"]}))],
         _each({"front": 403, "other": 403, "shopper": 200, "plain": 403})),
        ("ALLOW notNamespaces", [allow(rule(frm={"notNamespaces": ["shop"]}))],
         _each({"front": 200, "other": 200, "shopper": 403})),
        ("DENY a namespace, no ALLOW policy", [deny(rule(frm={"namespaces": ["shop"]}))],
         _each({"front": 200, "other": 200, "shopper": 403, "plain": 200})),
        ("DENY a principal wins over ALLOW of its namespace",
         [allow(rule(frm={"namespaces": ["default"]})), deny(rule(frm={"principals": ["*/sa/other"]}))],
         _each({"front": 200, "other": 403, "shopper": 403, "plain": 403})),
        ("ALLOW by when source.namespace / source.principal",
         [allow(rule(when=[cond("source.namespace", ["shop"])]), rule(when=[cond("source.principal", [other])]))],
         _each({"front": 403, "other": 200, "shopper": 200, "plain": 403})),
        ("DENY by when source.principal notValues",
         [deny(rule(when=[cond("source.principal", not_values=[front])]))],
         _each({"front": 200, "other": 403, "shopper": 403})),
        ("sources of a rule are ORed, from and to ANDed",
         [allow(rule(frm=[{"principals": [front]}, {"namespaces": ["shop"]}], to={"methods": ["GET"]}))],
         _each({"front": 200, "other": 403, "shopper": 200, "plain": 403})
         + _each({"front": 403, "shopper": 403}, method="POST")),
    ]
    for title, policies, cases in tables:
        pol.replace(*policies)
        expect_table(title, cases, callers, REVIEWS)


# ---------------------------------------------------------------- what: methods, paths, ports

def test_operations_methods_paths_ports(mesh, dataplane):
    m = mesh
    w = sidecar_workload(m, "reviews", "reviews", dataplane)
    proxies = _callers(m, {"front": ("front", "default")}, [REVIEWS])
    callers = {"front": via_sidecar(proxies["front"]), "plain": plaintext_to(m.host, w.inbound_port)}
    pol = PolicySet(m)

    def allow(*rules: dict) -> str:
        return ap("reviews-allow", action="ALLOW", selector=SEL_REVIEWS, rules=list(rules))

    def deny(*rules: dict) -> str:
        return ap("reviews-deny", action="DENY", selector=SEL_REVIEWS, rules=list(rules))

    def req(expect: int, path: str = "/", method: str = "GET", caller: str = "front") -> Case:
        return Case(f"{method} {path} from {caller}", caller, expect, path=path, method=method)

    # The workload's port is the one its WorkloadEntry declares (the sidecar's inbound port, which callers reach);
    # the service port (9080) is not a workload port, as in Istio where `ports` name the workload's target ports.
    wport = str(w.inbound_port)
    tables = [
        ("ALLOW methods", [allow(rule(to={"methods": ["GET", "HEAD"]}))],
         [req(200), req(200, method="HEAD"), req(403, method="POST"), req(403, method="DELETE")]),
        ("ALLOW notMethods", [allow(rule(to={"notMethods": ["DELETE", "PUT"]}))],
         [req(200), req(200, method="POST"), req(403, method="DELETE"), req(403, method="PUT")]),
        ("ALLOW an exact path", [allow(rule(to={"paths": ["/api/v1/items"]}))],
         [req(200, "/api/v1/items"), req(200, "/api/v1/items?page=2"), req(403, "/api/v1/items/"),
          req(403, "/api/v1/items2"), req(403, "/api/v1"), req(403, "/API/v1/items")]),
        ("ALLOW a path prefix (/api/*)", [allow(rule(to={"paths": ["/api/*"]}))],
         [req(200, "/api/"), req(200, "/api/x/y"), req(200, "/api/x?q=1"), req(403, "/api"), req(403, "/apix"),
          req(403, "/other/api/x")]),
        ("ALLOW a path suffix (*.json)", [allow(rule(to={"paths": ["*.json"]}))],
         [req(200, "/a/b.json"), req(200, "/b.json?x=1"), req(403, "/a/b.xml"), req(403, "/json")]),
        ("ALLOW notPaths", [allow(rule(to={"notPaths": ["/private", "/private/*"]}))],
         [req(200, "/public"), req(200, "/privately"), req(403, "/private"), req(403, "/private/x")]),
        ("DENY a method on a path prefix", [deny(rule(to={"methods": ["DELETE"], "paths": ["/api/*"]}))],
         [req(403, "/api/x", "DELETE"), req(200, "/api/x"), req(200, "/other", "DELETE")]),
        ("rules are ORed, fields of an operation ANDed",
         [allow(rule(to={"methods": ["POST"], "paths": ["/write"]}), rule(to={"methods": ["GET"]}))],
         [req(200, "/write", "POST"), req(403, "/other", "POST"), req(200, "/other"), req(403, "/write", "PUT")]),
        ("ALLOW the workload's port", [allow(rule(to={"ports": [wport]}))],
         [req(200), req(200, caller="plain")]),
        ("ALLOW the service port only (not the workload's)", [allow(rule(to={"ports": ["9080"]}))],
         [req(403), req(403, caller="plain")]),
        ("ALLOW notPorts of the workload's port", [allow(rule(to={"notPorts": [wport]}))],
         [req(403), req(403, caller="plain")]),
        ("DENY the workload's port on one path", [deny(rule(to={"ports": [wport], "paths": ["/closed"]}))],
         [req(403, "/closed"), req(200, "/open")]),
    ]
    for title, policies, cases in tables:
        pol.replace(*policies)
        expect_table(title, cases, callers, REVIEWS)


# ---------------------------------------------------------------- when: headers; source IP blocks

def test_conditions_and_ip_blocks(mesh, dataplane):
    m = mesh
    w = sidecar_workload(m, "reviews", "reviews", dataplane)
    proxies = _callers(m, {"front": ("front", "default")}, [REVIEWS])
    callers = {"front": via_sidecar(proxies["front"]), "plain": plaintext_to(m.host, w.inbound_port)}
    pol = PolicySet(m)
    user = "request.headers[x-user]"

    def allow(*rules: dict) -> str:
        return ap("reviews-allow", action="ALLOW", selector=SEL_REVIEWS, rules=list(rules))

    def deny(*rules: dict) -> str:
        return ap("reviews-deny", action="DENY", selector=SEL_REVIEWS, rules=list(rules))

    def as_user(expect: int, who: str | None, caller: str = "front") -> Case:
        return Case(f"x-user={who} from {caller}", caller, expect, headers={"x-user": who} if who is not None else {})

    # Every caller here connects from the loopback address (the sidecars and the test run on 127.0.0.1).
    tables = [
        ("ALLOW when a header has one of the values", [allow(rule(when=[cond(user, ["alice", "bob"])]))],
         [as_user(200, "alice"), as_user(200, "bob"), as_user(403, "carol"), as_user(403, None),
          as_user(200, "alice", "plain")]),
        ("ALLOW when a header has none of notValues", [allow(rule(when=[cond(user, not_values=["mallory"])]))],
         [as_user(200, "alice"), as_user(403, "mallory")]),
        ("ALLOW when a header value has a prefix", [allow(rule(when=[cond(user, ["team-*"])]))],
         [as_user(200, "team-a"), as_user(403, "other-team")]),
        ("ALLOW when a header is present (*)", [allow(rule(when=[cond(user, ["*"])]))],
         [as_user(200, "anyone"), as_user(403, None)]),
        ("DENY when a header matches", [deny(rule(when=[cond(user, ["mallory"])]))],
         [as_user(403, "mallory"), as_user(200, "alice"), as_user(200, None)]),
        ("a principal AND a header condition",
         [allow(rule(frm={"principals": [principal("front")]}, when=[cond(user, ["alice"])]))],
         [as_user(200, "alice"), as_user(403, "bob"), as_user(403, "alice", "plain")]),
        ("ALLOW ipBlocks 127.0.0.1/32", [allow(rule(frm={"ipBlocks": ["127.0.0.1/32"]}))],
         [as_user(200, None), as_user(200, None, "plain")]),
        ("ALLOW ipBlocks 10.0.0.0/8", [allow(rule(frm={"ipBlocks": ["10.0.0.0/8"]}))],
         [as_user(403, None), as_user(403, None, "plain")]),
        ("ALLOW notIpBlocks 127.0.0.0/8", [allow(rule(frm={"notIpBlocks": ["127.0.0.0/8"]}))],
         [as_user(403, None), as_user(403, None, "plain")]),
        ("DENY ipBlocks 127.0.0.0/8 when a header matches",
         [deny(rule(frm={"ipBlocks": ["127.0.0.0/8"]}, when=[cond(user, ["mallory"])]))],
         [as_user(403, "mallory"), as_user(200, "alice"), as_user(403, "mallory", "plain")]),
        ("when source.ip", [allow(rule(when=[cond("source.ip", ["10.0.0.0/8"])]),
                                  rule(when=[cond("source.ip", ["127.0.0.1"]), cond(user, ["alice"])]))],
         [as_user(200, "alice"), as_user(403, "bob")]),
    ]
    for title, policies, cases in tables:
        pol.replace(*policies)
        expect_table(title, cases, callers, REVIEWS)


# ---------------------------------------------------------------- precedence, AUDIT, dry-run, levels, selectors

def test_precedence_audit_dry_run_and_policy_levels(mesh, dataplane):
    m = mesh
    reviews = sidecar_workload(m, "reviews", "reviews", dataplane)
    sidecar_workload(m, "ratings", "ratings", dataplane)
    proxies = _callers(m, {"front": ("front", "default"), "shopper": ("shopper", "shop")}, [REVIEWS, RATINGS])
    callers = {n: via_sidecar(p) for n, p in proxies.items()}
    pol = PolicySet(m)
    front = principal("front")

    def on(target: str, expect: dict[str, int], path: str = "/", method: str = "GET") -> list[Case]:
        return _each(expect, path, method, target=target, tag=f"{method} {target.split('.')[0]}{path}")

    tables = [
        ("a matching DENY wins over a matching ALLOW",
         [ap("allow-front", action="ALLOW", selector=SEL_REVIEWS, rules=[rule(frm={"principals": [front]})]),
          ap("deny-admin", action="DENY", selector=SEL_REVIEWS,
             rules=[rule(frm={"principals": [front]}, to={"paths": ["/admin"]})])],
         on(REVIEWS, {"front": 200, "shopper": 403}) + on(REVIEWS, {"front": 403}, "/admin")),
        ("allow-nothing (spec: {}) in the namespace denies every workload there",
         [ap("allow-nothing", spec={})],
         on(REVIEWS, {"front": 403, "shopper": 403}) + on(RATINGS, {"front": 403})),
        ("an ALLOW without rules denies everything on the workloads it selects",
         [ap("allow-no-rules", action="ALLOW", selector=SEL_REVIEWS)],
         on(REVIEWS, {"front": 403, "shopper": 403}) + on(RATINGS, {"front": 200, "shopper": 200})),
        ("rules: [{}] allows everything, ORed with an allow-nothing policy",
         [ap("allow-nothing", spec={}), ap("allow-all", action="ALLOW", selector=SEL_REVIEWS, rules=[rule()])],
         on(REVIEWS, {"front": 200, "shopper": 200}) + on(REVIEWS, {"front": 200}, "/x", "DELETE")
         + on(RATINGS, {"front": 403})),
        ("a DENY without rules denies nothing", [ap("deny-no-rules", action="DENY")],
         on(REVIEWS, {"front": 200, "shopper": 200}) + on(RATINGS, {"front": 200})),
        ("AUDIT neither denies nor counts as an ALLOW",
         [ap("audit-front", action="AUDIT", selector=SEL_REVIEWS, rules=[rule(frm={"principals": [front]})]),
          ap("audit-all", action="AUDIT", rules=[rule()])],
         on(REVIEWS, {"front": 200, "shopper": 200}) + on(RATINGS, {"front": 200})),
        ("mesh-wide DENY, namespace ALLOW and workload ALLOW combine",
         [ap("deny-admin", ROOT_NS, action="DENY", rules=[rule(to={"paths": ["/admin"]})]),
          ap("allow-shop", action="ALLOW", rules=[rule(frm={"namespaces": ["shop"]})]),
          ap("reviews-get", action="ALLOW", selector=SEL_REVIEWS, rules=[rule(to={"methods": ["GET"]})])],
         on(REVIEWS, {"front": 200, "shopper": 200}) + on(REVIEWS, {"front": 403, "shopper": 200}, method="POST")
         + on(REVIEWS, {"front": 403, "shopper": 403}, "/admin")
         + on(RATINGS, {"front": 403, "shopper": 200}) + on(RATINGS, {"shopper": 403}, "/admin")),
        ("mesh-wide allow-nothing, a workload's allow-all",
         [ap("allow-nothing", ROOT_NS, spec={}),
          ap("reviews-all", action="ALLOW", selector=SEL_REVIEWS, rules=[rule()])],
         on(REVIEWS, {"front": 200, "shopper": 200}) + on(RATINGS, {"front": 403, "shopper": 403})),
        ("policies of another namespace do not apply here",
         [ap("allow-nothing", "shop", spec={}), ap("deny-all", "shop", action="DENY", rules=[rule()])],
         on(REVIEWS, {"front": 200, "shopper": 200}) + on(RATINGS, {"front": 200})),
        ("a policy selecting another workload does not apply to this one",
         [ap("ratings-nothing", spec={"selector": {"matchLabels": SEL_RATINGS}}),
          ap("ratings-deny", action="DENY", selector=SEL_RATINGS, rules=[rule()]),
          ap("nobody", action="DENY", selector={"app": "no-such-app"}, rules=[rule()])],
         on(REVIEWS, {"front": 200, "shopper": 200}) + on(RATINGS, {"front": 403, "shopper": 403})),
    ]
    for title, policies, cases in tables:
        pol.replace(*policies)
        expect_table(title, cases, callers, REVIEWS)

    # Dry-run: not enforced, but the decision is counted at the workload's sidecar (`*shadow_denied`). Whether the
    # policy has arrived shows only in that counter, so wait on it.
    sidecar = reviews.sidecar
    dry_cases = {
        "dry-run DENY matching /dry-run": (
            ap("dry-deny", action="DENY", selector=SEL_REVIEWS, rules=[rule(to={"paths": ["/dry-run"]})], dry_run=True),
            Case("GET /dry-run from front (matches the dry-run DENY)", "front", 200, path="/dry-run"),
            on(REVIEWS, {"front": 200, "shopper": 200}, "/dry-run") + on(REVIEWS, {"front": 200})),
        "dry-run ALLOW of front only": (
            ap("dry-allow", action="ALLOW", selector=SEL_REVIEWS, rules=[rule(frm={"principals": [front]})],
               dry_run=True),
            Case("GET / from shopper (not matched by the dry-run ALLOW)", "shopper", 200),
            on(REVIEWS, {"front": 200, "shopper": 200}) + on(RATINGS, {"shopper": 200})),
    }
    for title, (policy, trigger, cases) in dry_cases.items():
        before = shadow_denied(sidecar)
        pol.replace(policy)
        seen: list = []

        def counted() -> bool:
            seen[:] = [outcome(trigger, callers, REVIEWS)]
            if seen[0] is not None:  # never enforced, also before the counter moves
                raise_now(f"{title}: a dry-run policy decided a request: {seen[0]}")
            seen.append(shadow_denied(sidecar))
            return seen[-1] > before

        wait_until(counted, 10, 0.1,
                   desc=lambda: f"{title}: a *shadow_denied stat of {sidecar.node} above {before} (last: {seen})")
        expect_table(title, cases, callers, REVIEWS)


# ---------------------------------------------------------------- live changes

def test_policy_changes_apply_live_without_failing_allowed_requests(mesh, dataplane, report):
    m = mesh
    sidecar_workload(m, "reviews", "reviews", dataplane)
    proxies = _callers(m, {"front": ("front", "default"), "bad": ("bad", "default")}, [REVIEWS])
    callers = {n: via_sidecar(p) for n, p in proxies.items()}
    front, bad = principal("front"), principal("bad")
    never = rule(to={"paths": ["/never"]})
    # (title, the ALLOW policy's rule, the DENY policy's rule): every version allows front's GET /live.
    versions = [
        ("front and bad allowed", rule(frm={"principals": [front, bad]}), never),
        ("front only", rule(frm={"principals": [front]}), never),
        ("bad allowed by ALLOW, denied by DENY", rule(frm={"principals": [front, bad]}), rule(frm={"principals": [bad]})),
        ("the default namespace on /live*", rule(frm={"namespaces": ["default"]}, to={"paths": ["/live*"]}), never),
        ("front by suffix for GET, bad denied", rule(frm={"principals": ["*/sa/front"]}, to={"methods": ["GET"]}),
         rule(frm={"principals": [bad]})),
    ]

    def version(v) -> list[str]:
        _, allow_rule, deny_rule = v
        return [ap("reviews-allow", action="ALLOW", selector=SEL_REVIEWS, rules=[allow_rule]),
                ap("reviews-deny", action="DENY", selector=SEL_REVIEWS, rules=[deny_rule])]

    pol = PolicySet(m)
    pol.replace(*version(versions[0]))
    expect_table(versions[0][0], [Case("front", "front", 200, path="/live"), Case("bad", "bad", 200, path="/live")],
                 callers, REVIEWS)

    results: list[str | None] = []
    stop = threading.Event()

    def stream() -> None:
        with session() as s:  # one keep-alive connection to front's sidecar, which pools its own to reviews
            while not stop.is_set():
                try:
                    r = proxies["front"].request(REVIEWS, "/live", sess=s, timeout=5)
                    ok = r.status_code == 200 and r.json().get("service") == "reviews"
                    results.append(None if ok else f"{r.status_code} {r.text[:200]!r}")
                except (requests.RequestException, ValueError) as e:
                    results.append(f"{type(e).__name__}: {e}")

    t = threading.Thread(target=stream, name="front-stream", daemon=True)
    start = time.monotonic()
    t.start()
    changes = 0
    try:
        for _ in range(6):  # rounds through the versions for about 2.5 s, ending with versions[-1] (bad denied)
            for v in versions[1:]:
                pol.replace(*version(v))
                changes += 1
            if time.monotonic() - start >= 2.5:
                break
            pol.replace(*version(versions[0]))
            changes += 1
        else:
            pol.replace(*version(versions[-1]))
            changes += 1
        while time.monotonic() - start < 3.0:
            time.sleep(0.05)
    finally:
        stop.set()
        t.join(10)
    failures = [r for r in results if r]
    report("requests from the allowed caller during policy changes", f"{len(results)} over {changes} changes")
    assert len(results) >= 20, f"the stream sent only {len(results)} requests in {time.monotonic() - start:.1f}s"
    assert not failures, f"{len(failures)} of {len(results)} requests of the allowed caller failed: {failures[:5]}"
    expect_table(f"after the changes ({versions[-1][0]})",
                 [Case("front", "front", 200, path="/live"), Case("bad", "bad", 403, path="/live")], callers, REVIEWS)


# ---------------------------------------------------------------- TCP

class _OnHost:
    """The mesh as a proxy sees it when started, but with another loopback address for the proxy's own listeners
    (outbound HTTP, admin, and the outbound TCP listeners, which open on the outbound address's host at each TCP
    service's port): so two callers of one TCP service do not share one address and port."""

    def __init__(self, mesh, host: str):
        self._mesh = mesh
        self.host = host

    def __getattr__(self, name: str):
        return getattr(self._mesh, name)


def _caller_on(m, like, host: str, sa: str):
    """A caller sidecar of the test's data plane with its listeners on `host` (constructed as mesh.start_envoy
    does, with the class of the proxy `like`)."""
    e = type(like)(mesh=_OnHost(m, host), node=f"{sa}.default", namespace="default", outbound_port=free_port(host),
                   admin_port=free_port(host), labels={"app": sa}, inbound=None, extra_args=[], service_account=sa)
    m.envoys.append(e)
    e.wait_ready()
    return e


def _tcp_try(host: str, port: int, payload: bytes) -> str:
    """'echo' when the payload comes back; 'closed' when the connection is accepted, then closed or reset with
    nothing sent back; else what happened."""
    try:
        s = socket.create_connection((host, port), timeout=3)
    except ConnectionRefusedError:
        return "refused"
    except OSError as e:
        return f"connect error: {e}"
    with s:
        got = b""
        try:
            s.sendall(payload)
            while len(got) < len(payload):
                chunk = s.recv(4096)
                if not chunk:
                    return "closed" if not got else f"closed after {got!r}"
                got += chunk
        except (ConnectionResetError, BrokenPipeError):
            return "closed" if not got else f"reset after {got!r}"
        except (socket.timeout, TimeoutError):
            return f"timeout (got {got!r})"
        return "echo" if got == payload else f"other: {got!r}"


def test_tcp_policies_by_principal(mesh, dataplane):
    m = mesh
    app = TcpEcho(m.host).start()
    try:
        inbound = free_port(m.host)
        db = m.start_envoy(node=f"db-sidecar-{dataplane}", labels={"app": "db"}, service_account="db",
                           inbound=f"{hostport(m.host, inbound)}={hostport(m.host, app.port)}=tcp")
        tcp_port = free_port(m.host)
        m.apply(docs(
            f"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: db\n  namespace: default\n"
            f"spec:\n  hosts: [db.default.svc.cluster.local]\n  location: MESH_INTERNAL\n  resolution: STATIC\n"
            f"  ports:\n  - number: {tcp_port}\n    name: tcp\n    protocol: TCP\n"
            f"  workloadSelector:\n    labels:\n      app: db\n",
            f"apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: db-1\n  namespace: default\n"
            f"spec:\n  address: {m.host}\n  ports:\n    tcp: {inbound}\n  serviceAccount: db\n"
            f"  labels:\n    app: db\n    security.istio.io/tlsMode: istio\n",
            peer_authentication("STRICT", selector={"app": "db"}, name="db"),
        ))
        # Each caller's outbound TCP listener for db opens at its own address, on the service port.
        good = _caller_on(m, db, "127.0.0.52", "good")
        bad = _caller_on(m, db, "127.0.0.53", "bad")
        m.wait_synced()
        pol = PolicySet(m)
        last: dict[str, str] = {}

        def state(proxy, name: str) -> str:
            last[name] = _tcp_try(proxy.host, tcp_port, f"hello from {name}".encode())
            return last[name]

        def expect(title: str, want: dict[str, str], timeout: float = 15.0) -> None:
            wait_until(lambda: all(state(p, n) == s for n, (p, s) in want.items()), timeout, 0.1,
                       desc=lambda: f"{title}: {({n: s for n, (_, s) in want.items()})} (last: {last})")
            for _ in range(3):
                got = {n: state(p, n) for n, (p, _) in want.items()}
                assert got == {n: s for n, (_, s) in want.items()}, f"{title}: got {got}"

        expect("no policy: both callers' bytes echoed over mTLS", {"good": (good, "echo"), "bad": (bad, "echo")})

        pol.replace(ap("db-deny", action="DENY", selector={"app": "db"},
                       rules=[rule(frm={"principals": [principal("bad")]})]))
        expect("DENY principal bad", {"good": (good, "echo"), "bad": (bad, "closed")})
        served = app.served
        for _ in range(3):
            assert state(bad, "bad") == "closed", last
        assert app.served == served, "bytes of a denied connection reached the app"

        pol.clear()
        expect("no policy again", {"good": (good, "echo"), "bad": (bad, "echo")})

        pol.replace(ap("db-allow", action="ALLOW", selector={"app": "db"},
                       rules=[rule(frm={"principals": [principal("good")]})]))
        expect("ALLOW principal good", {"good": (good, "echo"), "bad": (bad, "closed")})

        pol.replace(ap("db-allow", action="ALLOW", selector={"app": "db"},
                       rules=[rule(frm={"principals": ["*/sa/bad"]})]))
        expect("ALLOW principal */sa/bad", {"good": (good, "closed"), "bad": (bad, "echo")})
    finally:
        app.stop()
