"""JWT helpers for the RequestAuthentication tests: RSA and EC keys (the `cryptography` package), their JWKS,
compact JWS tokens signed here (RS256/384/512, ES256/384; base64url and the JOSE signature format done by hand,
no JWT library), a small HTTP server whose JWKS a test can swap, and the RequestAuthentication YAML."""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from authz_helpers import resource

ISSUER = "https://issuer.test"
AUDIENCE = "weft-tests"

_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
_CURVES = {"ES256": (ec.SECP256R1, "P-256", 32), "ES384": (ec.SECP384R1, "P-384", 48)}
_kids = itertools.count(1)


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_bytes(n: int, length: int | None = None) -> bytes:
    return n.to_bytes(length or max(1, (n.bit_length() + 7) // 8), "big")


class Key:
    """A signing key with its JWK id and algorithm. Key.rsa() / Key.ec() make a new one."""

    def __init__(self, private: Any, kid: str, alg: str):
        self.private = private
        self.kid = kid
        self.alg = alg

    @classmethod
    def rsa(cls, kid: str | None = None, alg: str = "RS256", bits: int = 2048) -> "Key":
        assert alg in ("RS256", "RS384", "RS512"), alg
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=bits), kid or f"rsa-{next(_kids)}", alg)

    @classmethod
    def ec(cls, kid: str | None = None, alg: str = "ES256") -> "Key":
        curve, _, _ = _CURVES[alg]
        return cls(ec.generate_private_key(curve()), kid or f"ec-{next(_kids)}", alg)

    def jwk(self) -> dict[str, str]:
        """The public key as a JWK (RFC 7517/7518), with kid, alg and use=sig."""
        pub = self.private.public_key()
        if isinstance(pub, rsa.RSAPublicKey):
            nums = pub.public_numbers()
            return {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": self.alg,
                    "n": b64url(_int_bytes(nums.n)), "e": b64url(_int_bytes(nums.e))}
        nums = pub.public_numbers()
        _, crv, size = _CURVES[self.alg]
        return {"kty": "EC", "kid": self.kid, "use": "sig", "alg": self.alg, "crv": crv,
                "x": b64url(_int_bytes(nums.x, size)), "y": b64url(_int_bytes(nums.y, size))}

    def sign(self, signing_input: bytes, alg: str | None = None) -> bytes:
        """The JWS signature: RSASSA-PKCS1-v1_5 for RS*, and for ES* the raw R||S (each the curve's size), not DER."""
        alg = alg or self.alg
        h = _HASHES[alg[2:]]()
        if alg.startswith("RS"):
            return self.private.sign(signing_input, padding.PKCS1v15(), h)
        if alg.startswith("ES"):
            der = self.private.sign(signing_input, ec.ECDSA(h))
            r, s = decode_dss_signature(der)
            size = _CURVES[alg][2]
            return _int_bytes(r, size) + _int_bytes(s, size)
        raise ValueError(f"unsupported alg {alg}")


def rsa_key(kid: str | None = None) -> Key:
    """A new RSA 2048 key for RS256."""
    return Key.rsa(kid)


def ec_key(kid: str | None = None) -> Key:
    """A new EC P-256 key for ES256."""
    return Key.ec(kid)


def jwks(*keys: Key) -> str:
    """A JWKS document (JSON text) with the public keys."""
    return json.dumps({"keys": [k.jwk() for k in keys]})


def mint(key: Key, kid: str | None = None, iss: str | None = ISSUER, sub: str | None = "alice",
         aud: str | list[str] | None = AUDIENCE, exp_offset: float | None = 3600, nbf_offset: float | None = None,
         extra_claims: dict[str, Any] | None = None, alg: str | None = None, iat_offset: float | None = 0) -> str:
    """A compact JWS (header.payload.signature). kid defaults to the key's; offsets are seconds from now (None
    leaves the claim out); iss/sub/aud None leave them out; extra_claims are merged last."""
    now = int(time.time())
    header = {"alg": alg or key.alg, "typ": "JWT", "kid": kid if kid is not None else key.kid}
    claims: dict[str, Any] = {}
    if iss is not None:
        claims["iss"] = iss
    if sub is not None:
        claims["sub"] = sub
    if aud is not None:
        claims["aud"] = aud
    if iat_offset is not None:
        claims["iat"] = now + int(iat_offset)
    if exp_offset is not None:
        claims["exp"] = now + int(exp_offset)
    if nbf_offset is not None:
        claims["nbf"] = now + int(nbf_offset)
    claims.update(extra_claims or {})
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "."
                     + b64url(json.dumps(claims, separators=(",", ":")).encode()))
    return signing_input + "." + b64url(key.sign(signing_input.encode("ascii"), header["alg"]))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---------------------------------------------------------------- a JWKS server

class JWKSServer:
    """Serves a JWKS (the last one set) at GET /jwks.json (any path) on 127.0.0.1, a free port; counts requests."""

    def __init__(self, jwks_json: str, host: str = "127.0.0.1"):
        self._lock = threading.Lock()
        self._body = jwks_json.encode()
        self.hits = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def do_GET(self):
                with owner._lock:
                    body = owner._body
                    owner.hits += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"jwks-{self.port}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/jwks.json"

    def set(self, jwks_json: str) -> None:
        with self._lock:
            self._body = jwks_json.encode()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "JWKSServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# ---------------------------------------------------------------- RequestAuthentication

def request_authentication(name: str, ns: str = "default", selector: dict[str, str] | None = None,
                           issuer: str = ISSUER, jwks: str | None = None, jwks_uri: str | None = None,
                           audiences: list[str] | None = None, from_headers: list[dict[str, str]] | None = None,
                           forward_original_token: bool | None = None,
                           output_claim_to_headers: list[dict[str, str]] | None = None) -> str:
    """A RequestAuthentication (security.istio.io/v1) with one jwtRule. jwks is the JWKS JSON text (inline);
    from_headers e.g. [{"name": "x-jwt", "prefix": ""}]; output_claim_to_headers e.g.
    [{"header": "x-jwt-sub", "claim": "sub"}]."""
    rule: dict[str, Any] = {"issuer": issuer}
    if audiences is not None:
        rule["audiences"] = list(audiences)
    if jwks is not None:
        rule["jwks"] = jwks
    if jwks_uri is not None:
        rule["jwksUri"] = jwks_uri
    if from_headers is not None:
        rule["fromHeaders"] = [dict(h) for h in from_headers]
    if forward_original_token is not None:
        rule["forwardOriginalToken"] = forward_original_token
    if output_claim_to_headers is not None:
        rule["outputClaimToHeaders"] = [dict(h) for h in output_claim_to_headers]
    spec: dict[str, Any] = {}
    if selector:
        spec["selector"] = {"matchLabels": dict(selector)}
    spec["jwtRules"] = [rule]
    return resource("RequestAuthentication", name, ns, spec)
