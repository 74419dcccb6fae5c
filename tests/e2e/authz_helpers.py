"""Helpers for the AuthorizationPolicy and RequestAuthentication tests (test_authz.py, test_jwt.py): YAML for
security.istio.io/v1 resources, callers (a sidecar, or plaintext straight to a workload's inbound port), tables of
expected outcomes checked until a policy set has taken effect, and the dry-run counters of a proxy's /stats."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import requests

from helpers import assert_no_nack, hostport, session, wait_until

SEC_API = "security.istio.io/v1"
ROOT_NS = "istio-system"  # weft control's default --root-namespace: policies there without selector apply mesh-wide
DENIED_BODY = "RBAC: access denied"
DRY_RUN = {"istio.io/dry-run": "true"}


# ---------------------------------------------------------------- YAML

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_./-]+$")
_PLAIN_VALUE = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _key(k: str) -> str:
    return k if _PLAIN_KEY.match(k) else json.dumps(k)


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    s = str(v)
    if _PLAIN_VALUE.match(s) and s.lower() not in _YAML_WORDS:
        return s
    return json.dumps(s)  # a JSON string is a valid YAML double-quoted scalar


def to_yaml(obj: Any, indent: int = 0) -> str:
    """Block-style YAML for dicts, lists and scalars; a string is written plain only when it cannot be read as
    anything else (a name, `GET`, `security.istio.io/v1`), else double-quoted, so "8080" stays a string and
    `*/sa/x` or `*.json` is not read as an alias; empty containers as {} / []."""
    pad = " " * indent
    out: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (dict, list)) and v:
                out.append(f"{pad}{_key(k)}:\n{to_yaml(v, indent + 2)}")
            else:
                out.append(f"{pad}{_key(k)}: {('{}' if isinstance(v, dict) else '[]') if isinstance(v, (dict, list)) else _scalar(v)}\n")
        return "".join(out)
    if isinstance(obj, list):
        for v in obj:
            if isinstance(v, (dict, list)) and v:
                inner = to_yaml(v, indent + 2)
                out.append(f"{pad}- {inner[indent + 2:]}")  # the first line goes after the dash
            else:
                out.append(f"{pad}- {('{}' if isinstance(v, dict) else '[]') if isinstance(v, (dict, list)) else _scalar(v)}\n")
        return "".join(out)
    return f"{pad}{_scalar(obj)}\n"


def resource(kind: str, name: str, ns: str, spec: dict, annotations: dict[str, str] | None = None,
             api: str = SEC_API) -> str:
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if annotations:
        meta["annotations"] = dict(annotations)
    return to_yaml({"apiVersion": api, "kind": kind, "metadata": meta, "spec": spec})


# ---------------------------------------------------------------- AuthorizationPolicy

def authorization_policy(name: str, ns: str = "default", *, action: str | None = None,
                         rules: list[dict] | None = None, selector: dict[str, str] | None = None,
                         dry_run: bool = False, annotations: dict[str, str] | None = None,
                         spec: dict | None = None) -> str:
    """An AuthorizationPolicy. spec, when given, is used as it is (`spec={}` is Istio's allow-nothing policy);
    otherwise it is built from selector (matchLabels), action and rules (left out when None: a policy without
    rules). dry_run adds the annotation istio.io/dry-run: "true"."""
    if spec is None:
        spec = {}
        if selector:
            spec["selector"] = {"matchLabels": dict(selector)}
        if action:
            spec["action"] = action
        if rules is not None:
            spec["rules"] = rules
    ann = dict(annotations or {})
    if dry_run:
        ann.update(DRY_RUN)
    return resource("AuthorizationPolicy", name, ns, spec, ann or None)


def _entries(value: dict | list[dict] | None, key: str) -> list[dict]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [{key: dict(v)} for v in items]


def rule(frm: dict | list[dict] | None = None, to: dict | list[dict] | None = None,
         when: list[dict] | None = None) -> dict:
    """One rule: frm is a Source (or a list of them: any matches), to an Operation (or a list), when a list of
    conditions (all must match). rule() is the empty rule `{}` that matches every request."""
    r: dict[str, Any] = {}
    if frm is not None:
        r["from"] = _entries(frm, "source")
    if to is not None:
        r["to"] = _entries(to, "operation")
    if when is not None:
        r["when"] = when
    return r


def cond(key: str, values: list[str] | None = None, not_values: list[str] | None = None) -> dict:
    c: dict[str, Any] = {"key": key}
    if values is not None:
        c["values"] = values
    if not_values is not None:
        c["notValues"] = not_values
    return c


def principal(sa: str, ns: str = "default") -> str:
    """Istio's principal for a service account: cluster.local/ns/NS/sa/SA."""
    return f"cluster.local/ns/{ns}/sa/{sa}"


# ---------------------------------------------------------------- policy sets applied live

def _identity(doc: str) -> tuple[str, str, str] | None:
    kind = re.search(r'^kind: "?([^"\n]+)"?$', doc, re.M)
    meta = re.search(r'^metadata:\n((?:  .*\n?)+)', doc, re.M)
    if not kind or not meta:
        return None
    name = re.search(r'^  name: "?([^"\n]+)"?$', meta.group(1), re.M)
    ns = re.search(r'^  namespace: "?([^"\n]+)"?$', meta.group(1), re.M)
    if not name:
        return None
    return kind.group(1), name.group(1), ns.group(1) if ns else "default"


class PolicySet:
    """The security resources a test has applied. replace(*docs) applies the new set, then deletes what the
    previous set had and the new one has not (so a resource kept by name is changed in place, never missing),
    waits until every proxy has answered the config and checks that none NACKed it."""

    def __init__(self, mesh):
        self.mesh = mesh
        self.applied: list[tuple[str, str, str]] = []

    def replace(self, *docs_: str) -> None:
        new = [i for d in docs_ if (i := _identity(d))]
        if docs_:
            self.mesh.apply("---\n".join(d if d.endswith("\n") else d + "\n" for d in docs_))
        for kind, name, ns in self.applied:
            if (kind, name, ns) not in new:
                cp = self.mesh.delete(kind, name, ns)
                assert cp.returncode == 0, f"weft delete {kind} {name} -n {ns}: exit {cp.returncode}\n{cp.stdout}\n{cp.stderr}"
        self.applied = new
        self.mesh.wait_synced()
        assert_no_nack(self.mesh)

    def clear(self) -> None:
        self.replace()


# ---------------------------------------------------------------- callers and tables

Send = Callable[[str, str, str, dict], requests.Response]  # (host, method, path, headers) -> response


def via_sidecar(proxy) -> Send:
    """A caller that sends through a sidecar's outbound listener (a new connection from the test each time; the
    sidecar pools its own connections to the target)."""
    def send(host: str, method: str, path: str, headers: dict) -> requests.Response:
        return proxy.request(host, path, headers=headers, method=method, timeout=5)
    return send


def plaintext_to(host_addr: str, port: int) -> Send:
    """A caller without a sidecar: plaintext straight to a workload's inbound port (no peer identity)."""
    def send(host: str, method: str, path: str, headers: dict) -> requests.Response:
        with session() as s:
            return s.request(method, f"http://{hostport(host_addr, port)}{path}", headers={"Host": host, **headers},
                             timeout=5, allow_redirects=False)
    return send


@dataclass
class Case:
    name: str
    caller: str
    expect: int
    path: str = "/"
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    target: str | None = None  # host; the table's default when None
    # Extra check of a response that had the expected status: returns what is wrong, or None.
    check: Callable[[requests.Response], str | None] | None = None
    # The body a 403 must carry (the RBAC denial unless given: JWT audience refusals have their own).
    denied_body: str = DENIED_BODY


def _short(headers: dict[str, str]) -> dict[str, str]:
    return {k: (v if len(v) <= 40 else v[:24] + "..." + v[-8:]) for k, v in headers.items()}


def outcome(case: Case, callers: dict[str, Send], host: str, app: str | None = None) -> str | None:
    """None if the case's request got what it expects; else a line saying what it got. A 403 must be the RBAC
    denial (body `RBAC: access denied`); a 200 must come from the app (its JSON echo), from `app` if given."""
    target = case.target or host
    where = f"{case.caller} {case.method} {target}{case.path} {_short(case.headers) if case.headers else ''}".rstrip()
    try:
        r = callers[case.caller](target, case.method, case.path, dict(case.headers))
    except requests.RequestException as e:
        return f"{case.name}: {where}: expected {case.expect}, got no response ({type(e).__name__}: {e})"
    got = f"{r.status_code} {r.text[:200]!r}"
    if r.status_code != case.expect:
        return f"{case.name}: {where}: expected {case.expect}, got {got}"
    if case.method != "HEAD":
        if case.expect == 403 and case.denied_body not in r.text:
            return f"{case.name}: {where}: expected the denial {case.denied_body!r}, got {got}"
        if case.expect == 200:
            try:
                body = r.json()
            except ValueError:
                return f"{case.name}: {where}: expected the app's echo, got {got}"
            want = app or target.split(".")[0]
            if not isinstance(body, dict) or body.get("service") != want:
                return f"{case.name}: {where}: expected an answer from {want}, got {got}"
    if case.check:
        problem = case.check(r)
        if problem:
            return f"{case.name}: {where}: {problem}"
    return None


def expect_table(title: str, cases: list[Case], callers: dict[str, Send], host: str, timeout: float = 10.0,
                 app: str | None = None) -> None:
    """Wait until every case gets its expected outcome in one pass (the policy set has reached the proxies and
    applies to requests on the connections they already have open), then check one more full pass."""
    last: list[str] = []

    def all_ok() -> bool:
        last[:] = [m for c in cases if (m := outcome(c, callers, host, app))]
        return not last

    wait_until(all_ok, timeout, 0.1,
               desc=lambda: (f"policy set {title!r} to give every expected outcome; {len(last)} of {len(cases)} "
                             f"cases wrong in the last pass (if an old decision persists: a policy change must "
                             f"apply to requests on connections already open between the sidecars):\n  "
                             + "\n  ".join(last)))
    wrong = [m for c in cases if (m := outcome(c, callers, host, app))]
    assert not wrong, f"policy set {title!r}: outcomes changed on a second pass:\n  " + "\n  ".join(wrong)


# ---------------------------------------------------------------- dry-run counters

def shadow_denied(proxy) -> int:
    """The sum of the proxy's counters whose name ends in `shadow_denied` (Envoy's RBAC shadow engine, as Istio's
    dry-run uses it: http.<prefix>.rbac.istio_dry_run_{allow,deny}_shadow_denied), read from admin /stats in
    Envoy's text format (`name: value`); a Prometheus-style line (`name{labels} value`) is read too."""
    r = proxy.admin("/stats")
    r.raise_for_status()
    total = 0
    for line in r.text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if ": " in line:
            name, _, value = line.partition(": ")
        else:
            parts = line.split()
            if len(parts) < 2:
                continue
            name, value = parts[0].split("{", 1)[0], parts[1]
        name = name.strip()
        if name.endswith("shadow_denied") or name.endswith("shadow_denied_total"):
            try:
                total += int(float(value.strip()))
            except ValueError:
                pass
    return total


# ---------------------------------------------------------------- identities

def wait_mtls(client, host: str, sa: str, ns: str = "default", timeout: float = 15.0) -> None:
    """Wait until a call through `client` reaches the app over mTLS, the app's x-forwarded-client-cert naming
    the caller's SPIFFE ID (so the target's sidecar knows the caller's principal)."""
    from mtls import xfcc
    uri = f"spiffe://cluster.local/ns/{ns}/sa/{sa}"
    last: list = []

    def ok() -> bool:
        try:
            r = client.request(host, timeout=3)
        except requests.RequestException as e:
            last[:] = [repr(e)]
            return False
        last[:] = [r.status_code, r.text[:300]]
        return r.status_code == 200 and f"URI={uri}" in xfcc(r)

    wait_until(ok, timeout, 0.1, desc=lambda: f"an mTLS call from {client.node} to {host} naming {uri} (last: {last})")
