"""Issue 12: a control plane nobody can talk to uninvited. The API takes tokens: the admin token (made at first
start, 0600 under --data, recorded in the CLI config of the user who started it) may do everything; a join token
may only register and heartbeat workloads of its namespace and service account; anything else is 401 or 403 and
changes nothing."""

from __future__ import annotations

import json
import os
import time

import pytest
import requests

from helpers import api_token

SE = ("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: x}\n"
      "spec: {hosts: [x.default.svc.cluster.local], ports: [{number: 80, name: http, protocol: HTTP}]}\n")


def _call(m, method: str, path: str, token: str | None = None, **kw) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, m.api_url + path, headers=headers, timeout=5, **kw)


def _state(m) -> tuple[int, list, list]:
    s = m.status()
    return s["version"], sorted(r["name"] for r in m.resources()), sorted(w["name"] for w in s.get("workloads", []))


def _join_token(m, ns: str, sa: str, ttl: str = "1h") -> str:
    cp = m.run_weft("token", "create", "--namespace", ns, "--service-account", sa, "--ttl", ttl, "--server", m.api_addr)
    assert cp.returncode == 0, cp.stderr
    return cp.stdout.strip()


@pytest.mark.control_plane_only
def test_without_a_valid_token_nothing_changes(mesh):
    m = mesh
    admin = (m.data_dir / "auth" / "admin-token").read_text().strip()
    assert oct((m.data_dir / "auth" / "admin-token").stat().st_mode & 0o777) == "0o600"
    # The control plane recorded itself for the user who started it: the CLI needs no flag.
    cfg = json.loads(open(os.environ["WEFT_CONFIG"]).read())
    assert cfg["servers"][m.api_addr]["token"] == admin and api_token(m.api_addr) == admin
    before = _state(m)
    reg = {"name": "intruder", "namespace": "default", "addresses": ["127.0.0.9"], "services": [{"name": "reviews", "port": 9080}]}
    forged = admin[:-4] + ("AAAA" if not admin.endswith("AAAA") else "BBBB")
    for token in (None, "nonsense", forged):
        assert _call(m, "POST", "/api/v1/apply", token, data=SE).status_code == 401
        assert _call(m, "POST", "/api/v1/workloads", token, json=reg).status_code == 401
        assert _call(m, "DELETE", "/api/v1/resources/ServiceEntry/default/x", token).status_code == 401
        assert _call(m, "GET", "/api/v1/status", token).status_code == 401
        assert _call(m, "POST", "/api/v1/tokens", token, json={}).status_code == 401
    assert _state(m) == before
    # The CLI without a token (another user's config) is refused with a clear message and exit 1.
    cp = m.run_weft("apply", "-f", str(m.write_input(SE)), "--server", m.api_addr, "--token", "nonsense")
    assert cp.returncode == 1 and "unauthorized" in cp.stderr and "--token" in cp.stderr, cp.stderr
    assert _state(m) == before
    # With the recorded admin token (no flag) it works.
    assert m.apply(SE).returncode == 0


@pytest.mark.control_plane_only
def test_a_join_token_registers_only_its_own_identity(mesh):
    m = mesh
    token = _join_token(m, "shop", "reviews")
    mine = {"name": "reviews-1", "namespace": "shop", "addresses": ["127.0.0.21"],
            "services": [{"name": "reviews", "port": 9080}]}
    r = _call(m, "POST", "/api/v1/workloads", token, json=mine)
    assert r.status_code == 200, r.text
    w = next(w for w in m.status()["workloads"] if w["name"] == "reviews-1")
    assert w["serviceAccount"] == "reviews" and w["namespace"] == "shop"  # the token's, filled in
    assert _call(m, "PUT", "/api/v1/workloads/shop/reviews-1/heartbeat", token).status_code == 200
    before = _state(m)
    other_sa = dict(mine, name="admin-1", serviceAccount="admin")
    other_ns = dict(mine, name="reviews-2", namespace="default")
    for body in (other_sa, other_ns):
        r = _call(m, "POST", "/api/v1/workloads", token, json=body)
        assert r.status_code == 403 and "shop/reviews" in r.text, r.text
    # Someone else's workload, and everything that is not registration.
    admin_reg = {"name": "ratings-1", "namespace": "shop", "serviceAccount": "ratings", "addresses": ["127.0.0.22"]}
    assert m.api("POST", "/api/v1/workloads", admin_reg).status_code == 200
    before = _state(m)
    assert _call(m, "PUT", "/api/v1/workloads/shop/ratings-1/heartbeat", token).status_code == 403
    assert _call(m, "DELETE", "/api/v1/workloads/shop/ratings-1", token).status_code == 403
    assert _call(m, "POST", "/api/v1/apply", token, data=SE).status_code == 403
    assert _call(m, "GET", "/api/v1/status", token).status_code == 403
    assert _call(m, "POST", "/api/v1/tokens", token, json={"serviceAccount": "admin"}).status_code == 403
    assert _state(m) == before
    assert _call(m, "DELETE", "/api/v1/workloads/shop/reviews-1", token).status_code == 200


@pytest.mark.control_plane_only
def test_an_expired_token_is_refused_and_tokens_survive_a_restart(mesh):
    m = mesh
    short = _join_token(m, "shop", "reviews", ttl="1s")
    long = _join_token(m, "shop", "reviews")
    time.sleep(1.2)
    reg = {"name": "r", "namespace": "shop", "addresses": ["127.0.0.23"]}
    r = _call(m, "POST", "/api/v1/workloads", short, json=reg)
    assert r.status_code == 401 and "expired" in r.text, r.text
    # Bad requests for tokens are refused with the field.
    r = m.api("POST", "/api/v1/tokens", {"namespace": "Bad_NS", "ttlSeconds": 0})
    assert r.status_code == 400 and "namespace" in r.text and "ttlSeconds" in r.text, r.text
    # The key is kept: a token issued before a restart still works after it.
    m.stop_control_plane()
    m.start_control_plane()
    assert _call(m, "POST", "/api/v1/workloads", long, json=reg).status_code == 200


@pytest.mark.control_plane_only
def test_insecure_mode_is_open_and_says_so(make_mesh):
    m = make_mesh(control_args=["--insecure"])
    assert _call(m, "POST", "/api/v1/apply", None, data=SE).status_code == 200
    assert "--insecure" in m.cp.log.read_text()


@pytest.mark.control_plane_only
def test_api_beyond_loopback_serves_https(weft_bin, tmp_path):
    """Listening beyond loopback (here 0.0.0.0), the API serves HTTPS with the control plane's certificate from the
    mesh CA (naming the host's addresses); clients check it by the mesh root, and plain HTTP gets nothing."""
    import subprocess

    from helpers import free_port, wait_until
    from mtls import server_certificate
    api_port, xds_port = free_port("127.0.0.1"), free_port("127.0.0.1")
    (tmp_path / "cfg").mkdir()
    data = tmp_path / "data"
    env = {**os.environ, "WEFT_CONFIG": str(tmp_path / "cli.json")}
    log = open(tmp_path / "control.log", "w")
    proc = subprocess.Popen([weft_bin, "control", "--config", str(tmp_path / "cfg"), "--data", str(data),
                             "--xds", f"127.0.0.1:{xds_port}", "--api", f"0.0.0.0:{api_port}"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        root = data / "ca" / "root-cert.pem"
        url = f"https://127.0.0.1:{api_port}/api/v1/status"

        def up():
            assert proc.poll() is None, (tmp_path / "control.log").read_text()
            try:
                admin = (data / "auth" / "admin-token").read_text().strip()
                return requests.get(url, verify=str(root), timeout=2, headers={"Authorization": f"Bearer {admin}"}).status_code == 200
            except (OSError, requests.RequestException):
                return False
        wait_until(up, 30, 0.1, desc="weft control's HTTPS API")
        admin = (data / "auth" / "admin-token").read_text().strip()
        cert = server_certificate("127.0.0.1", api_port)
        assert cert.uri_sans == ["spiffe://cluster.local/ns/istio-system/sa/weft-control"], cert
        # Without a token it is still 401, over HTTPS.
        assert requests.get(url, verify=str(root), timeout=5).status_code == 401
        # Plain HTTP gets no answer.
        with pytest.raises(requests.RequestException):
            requests.get(f"http://127.0.0.1:{api_port}/api/v1/status", timeout=3)

        def weft(*args):
            return subprocess.run([weft_bin, *args], capture_output=True, text=True, timeout=30, env=env)
        server = f"https://127.0.0.1:{api_port}"
        cp = weft("status", "--server", server, "--token", admin, "--ca-cert", str(root))
        assert cp.returncode == 0, cp.stderr
        # A join token carries the root's fingerprint: the CLI checks the API by it (and the API then says 403).
        join = requests.post(url.replace("status", "tokens"), verify=str(root), timeout=5,
                             headers={"Authorization": f"Bearer {admin}"},
                             json={"namespace": "shop", "serviceAccount": "reviews"}).json()["token"]
        cp = weft("get", "ServiceEntry", "--server", server, "--token", join)
        assert cp.returncode == 1 and "forbidden" in (cp.stdout + cp.stderr), (cp.stdout, cp.stderr)
        # Another CA's root does not check out: the CLI refuses to talk (and sends no token).
        other = tmp_path / "other-root.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", str(tmp_path / "other-key.pem"), "-out", str(other), "-days", "1", "-subj", "/O=other"],
                       check=True, capture_output=True)
        cp = weft("status", "--server", server, "--token", admin, "--ca-cert", str(other))
        assert cp.returncode == 1 and "cannot reach" in cp.stderr, cp.stderr
        # Without any way to check it, the CLI says what it needs.
        cp = weft("status", "--server", server, "--token", admin)
        assert cp.returncode == 1 and "--ca-cert" in cp.stderr, cp.stderr
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
