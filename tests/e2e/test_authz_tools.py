"""The tools around authorization: `weft check authz` explains a decision from the config in effect (with the
policy and rule that made it), `weft status` lists the policies per proxy, and every policy example of
docs/security.md, applied to a mesh, does what the page says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers import docs, service_entry
from jwt_helpers import ISSUER, jwks, mint, request_authentication, rsa_key

ROOT = Path(__file__).resolve().parents[2]


def _doc_example(name: str) -> str:
    """The YAML block of docs/security.md that defines the resource `name`."""
    text = (ROOT / "docs" / "security.md").read_text()
    for block in re.findall(r"```yaml\n(.*?)```", text, re.S):
        for doc in block.split("---\n"):
            if re.search(rf"^  name: {re.escape(name)}$", doc, re.M):
                return doc
    raise AssertionError(f"docs/security.md has no example named {name}")


def _workload(ns: str, app: str, address: str, port: int) -> str:
    return (f"apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: {app}-1\n  namespace: {ns}\n"
            f"spec:\n  address: {address}\n  ports:\n    http: {port}\n  serviceAccount: {app}\n"
            f"  labels:\n    app: {app}\n    security.istio.io/tlsMode: istio\n")


@pytest.mark.control_plane_only
def test_weft_check_authz_explains_the_docs_examples(mesh, tmp_path):
    m = mesh
    m.apply(docs(service_entry("reviews", "shop"), _workload("shop", "reviews", "10.1.0.5", 9080),
                 _doc_example("reviews-from-front"), _doc_example("no-admin")))

    def check(*args: str) -> str:
        cp = m.run_weft("check", "authz", "--server", m.api_addr, "--to", "reviews.shop", *args)
        assert cp.returncode == 0, cp.stderr
        return cp.stdout

    out = check("--from", "shop/front", "--path", "/api", "--method", "GET")
    assert "ALLOW policies: matched ns[shop]-policy[reviews-from-front]-rule[0]" in out and out.rstrip().endswith("ALLOWED"), out
    out = check("--from", "shop/front", "--method", "POST")
    assert "none matched, so denied" in out and "DENIED: 403 RBAC: access denied" in out, out
    out = check("--from", "shop/other")
    assert "DENIED" in out, out
    out = check("--from", "shop/front", "--path", "/admin/users")
    assert "DENY policies: matched ns[istio-system]-policy[no-admin]-rule[0]" in out and "DENIED" in out, out
    # A plaintext caller has no principal.
    assert "DENIED" in check()

    # JWT: the docs' requirement of a token, with keys inline.
    key = rsa_key()
    ra = request_authentication("shop-jwt", ns="shop", selector={"app": "reviews"}, issuer=ISSUER, jwks=jwks(key))
    m.apply(docs(ra, _doc_example("require-jwt")))
    token = tmp_path / "token"
    token.write_text(mint(key, sub="alice"))
    # ALLOW policies add up: front still gets in by reviews-from-front; another caller needs a token.
    out = check("--from", "shop/other")
    assert "JWT: no token" in out and "DENIED" in out, out
    out = check("--from", "shop/other", "--jwt", str(token))
    assert f"JWT: verified, issuer {ISSUER}" in out and "matched ns[shop]-policy[require-jwt]-rule[0]" in out, out
    assert out.rstrip().endswith("ALLOWED"), out
    expired = tmp_path / "expired"
    expired.write_text(mint(key, exp_offset=-600))
    out = check("--from", "shop/other", "--jwt", str(expired))
    assert "JWT: 401 Jwt is expired" in out, out
    # Bad input is refused with the flag named.
    cp = m.run_weft("check", "authz", "--server", m.api_addr, "--to", "nothing.shop")
    assert cp.returncode != 0 and "no service nothing.shop.svc.cluster.local" in cp.stderr, cp.stderr
    cp = m.run_weft("check", "authz", "--server", m.api_addr, "--to", "reviews.shop", "--from", "front")
    assert cp.returncode != 0 and "--from" in cp.stderr, cp.stderr


def test_status_lists_policies_per_proxy(mesh):
    from mtls import sidecar_workload
    m = mesh
    sidecar_workload(m, "reviews", "reviews", m.dataplane)
    m.apply(_doc_example("no-admin"))
    m.wait_synced()
    st = m.status()
    proxy = next(p for p in st["proxies"] if p["id"].startswith("reviews-sidecar"))
    assert proxy["policies"]["authorization"] == [
        {"namespace": "istio-system", "name": "no-admin", "action": "DENY", "dryRun": False, "rules": 1}], proxy
    cp = m.run_weft("status", "--server", m.api_addr)
    assert cp.returncode == 0, cp.stderr
    assert "POLICIES" in cp.stdout and "istio-system/no-admin DENY" in cp.stdout, cp.stdout
