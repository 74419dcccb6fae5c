"""Istio RequestAuthentication (security.istio.io/v1) at the destination workload's sidecar, on both data planes,
and AuthorizationPolicy on what a valid JWT says (requestPrincipals, request.auth.claims[...]).

Istio's semantics: a request with a JWT that does not verify (expired, not yet valid, another issuer, a signature
no key of the JWKS checks, malformed) gets 401, and one whose audience is not accepted 403 (Envoy's jwt_authn
answers `Audiences in Jwt are not allowed` with 403, so Istio on Envoy does too; weft proxy does the same); a request without a token passes authentication (an
AuthorizationPolicy may then deny it with 403); a request principal is `<iss>/<sub>`; forwardOriginalToken
(default false) decides whether the app sees the Authorization header; outputClaimToHeaders copies claims into
request headers. JWKS by URL are fetched by the control plane (every --jwks-refresh) and sent to the proxies.
The token goes in `Authorization: Bearer <token>`."""

from __future__ import annotations

import time

from authz_helpers import Case, PolicySet, authorization_policy, cond, expect_table, rule, via_sidecar, wait_mtls
from jwt_helpers import AUDIENCE, ISSUER, JWKSServer, bearer, ec_key, jwks, mint, request_authentication, rsa_key
from mtls import sidecar_workload

REVIEWS = "reviews.default.svc.cluster.local"
SEL = {"app": "reviews"}


def _app_headers(r) -> dict[str, str]:
    return r.json().get("headers", {})


def _sees(header: str, value: str | None):
    """A Case.check: the app saw `header` with `value` (None: did not see it at all)."""
    def check(r) -> str | None:
        got = _app_headers(r).get(header)
        if got != value:
            return f"the app saw {header}: {got!r}, expected {value!r}"
        return None
    return check


def _target_and_caller(m, dataplane):
    sidecar_workload(m, "reviews", "reviews", dataplane)
    front = m.start_envoy(node="front.default", labels={"app": "front"}, service_account="front")
    m.wait_synced()
    wait_mtls(front, REVIEWS, "front")
    return {"front": via_sidecar(front)}


def test_request_authentication_and_jwt_authorization(mesh, dataplane):
    m = mesh
    callers = _target_and_caller(m, dataplane)
    key_rsa, key_ec = rsa_key("rsa-1"), ec_key("ec-1")
    impostor = rsa_key("rsa-1")  # same kid as the trusted RSA key, another key: the signature does not verify
    unknown = rsa_key("rsa-unknown")  # a kid the JWKS does not have
    keys = jwks(key_rsa, key_ec)

    alice = mint(key_rsa, sub="alice")
    bob_es = mint(key_ec, sub="bob")
    admin_dev = mint(key_rsa, sub="carol", extra_claims={"groups": ["admin", "dev"]})
    dev_only = mint(key_ec, sub="dave", extra_claims={"groups": ["dev"]})
    tokens = {
        "expired": mint(key_rsa, exp_offset=-600),  # beyond any clock skew allowance (Envoy's default is 60 s)
        "not yet valid": mint(key_rsa, nbf_offset=600),
        "another audience": mint(key_rsa, aud="someone-else"),
        "another issuer": mint(key_rsa, iss="https://other-issuer.test"),
        "signed by another key (same kid)": mint(impostor),
        "an unknown kid": mint(unknown),
        "malformed": "not-a-jwt",
    }

    def call(name: str, expect: int, token: str | None, path: str = "/", check=None) -> Case:
        case = Case(name, "front", expect, path=path, headers=bearer(token) if token else {}, check=check)
        if token == tokens.get("another audience"):
            case.denied_body = "Audiences in Jwt are not allowed"
        return case

    def both(*checks):
        def check(r):
            for c in checks:
                problem = c(r)
                if problem:
                    return problem
            return None
        return check

    ra = request_authentication("reviews-jwt", selector=SEL, issuer=ISSUER, jwks=keys, audiences=[AUDIENCE],
                                output_claim_to_headers=[{"header": "x-jwt-sub", "claim": "sub"}])
    pol = PolicySet(m)
    pol.replace(ra)
    invalid = [call(f"a token with {what}", 403 if what == "another audience" else 401, tok) for what, tok in tokens.items()]
    expect_table("RequestAuthentication alone", [
        # forwardOriginalToken defaults to false: the app does not see the token; outputClaimToHeaders: it sees sub.
        call("valid RS256", 200, alice, check=both(_sees("authorization", None), _sees("x-jwt-sub", "alice"))),
        call("valid ES256", 200, bob_es, check=_sees("x-jwt-sub", "bob")),
        call("valid, audience in a list", 200, mint(key_rsa, aud=["other", AUDIENCE])),
        call("no token", 200, None, check=_sees("x-jwt-sub", None)),
    ] + invalid, callers, REVIEWS)

    pol.replace(ra, authorization_policy("reviews-need-jwt", action="ALLOW", selector=SEL,
                                         rules=[rule(frm={"requestPrincipals": ["*"]})]))
    expect_table("ALLOW requestPrincipals [*]", [
        call("no token", 403, None),
        call("valid RS256", 200, alice),
        call("valid ES256", 200, bob_es),
        call("expired", 401, tokens["expired"]),
        call("another issuer", 401, tokens["another issuer"]),
    ], callers, REVIEWS)

    pol.replace(ra, authorization_policy("reviews-need-jwt", action="ALLOW", selector=SEL,
                                         rules=[rule(frm={"requestPrincipals": [f"{ISSUER}/alice"]})]))
    expect_table("ALLOW requestPrincipals [<issuer>/alice]", [
        call("alice", 200, alice),
        call("bob", 403, bob_es),
        call("no token", 403, None),
    ], callers, REVIEWS)

    pol.replace(ra, authorization_policy("reviews-need-jwt", action="ALLOW", selector=SEL, rules=[
        rule(to={"paths": ["/admin"]}, when=[cond("request.auth.claims[groups]", ["admin"])]),
        rule(frm={"requestPrincipals": ["*"]}, to={"notPaths": ["/admin"]}),
    ]))
    expect_table("ALLOW /admin to the groups claim admin", [
        call("groups [admin, dev] on /admin", 200, admin_dev, "/admin"),
        call("groups [dev] on /admin", 403, dev_only, "/admin"),
        call("no groups claim on /admin", 403, alice, "/admin"),
        call("no token on /admin", 403, None, "/admin"),
        call("groups [dev] on /home", 200, dev_only, "/home"),
        call("no token on /home", 403, None, "/home"),
    ], callers, REVIEWS)

    ra_forward = request_authentication("reviews-jwt", selector=SEL, issuer=ISSUER, jwks=keys, audiences=[AUDIENCE],
                                        forward_original_token=True)
    pol.replace(ra_forward)
    expect_table("forwardOriginalToken: true", [
        call("valid RS256", 200, alice, check=both(_sees("authorization", f"Bearer {alice}"), _sees("x-jwt-sub", None))),
        call("expired", 401, tokens["expired"]),
        call("no token", 200, None),
    ], callers, REVIEWS)


def test_jwks_uri_fetched_by_the_control_plane_and_rotated(make_mesh, dataplane, report):
    key_a, key_b = rsa_key("key-a"), rsa_key("key-b")
    by_a, by_b = mint(key_a, sub="alice"), mint(key_b, sub="alice")
    with JWKSServer(jwks(key_a)) as server:
        m = make_mesh(control_args=["--jwks-refresh", "1s"])
        callers = _target_and_caller(m, dataplane)
        pol = PolicySet(m)
        pol.replace(request_authentication("reviews-jwt", selector=SEL, issuer=ISSUER, jwks_uri=server.url,
                                           audiences=[AUDIENCE]))

        def call(name: str, expect: int, token: str | None) -> Case:
            return Case(name, "front", expect, headers=bearer(token) if token else {})

        expect_table("JWKS at the URL holds key A", [
            call("signed by A", 200, by_a),
            call("signed by B", 401, by_b),
            call("A, expired", 401, mint(key_a, exp_offset=-600)),
            call("no token", 200, None),
        ], callers, REVIEWS, timeout=15)
        assert server.hits >= 1, "nothing fetched the JWKS URL"

        server.set(jwks(key_b))
        t0 = time.monotonic()
        expect_table("JWKS at the URL rotated to key B only", [
            call("signed by A", 401, by_a),
            call("signed by B", 200, by_b),
            call("no token", 200, None),
        ], callers, REVIEWS, timeout=15)
        report("rotation of the JWKS at the URL seen by the proxy after", f"{time.monotonic() - t0:.1f}s")
