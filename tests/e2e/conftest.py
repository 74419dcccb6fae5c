"""Fixtures for Weft's end-to-end tests: a real `weft control`, real Envoys,
Python upstreams, all on loopback with ports chosen at run time.

Environment:
    WEFT_BIN   path to the built `weft` binary   (scripts/test.sh sets it)
    ENVOY_BIN  path to an Envoy binary            (scripts/test.sh: .venv/bin/envoy)
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import pytest
import requests

from helpers import (
    LOCAL4, XDSCredentials, api_headers, api_token, can_connect, free_port, hostport, http_base, raise_now, service_with_versions, session,
    version_of, wait_until,
)
from upstream import Upstream

HERE = Path(__file__).resolve().parent
# The CLI config that every `weft control` of this run records its API and admin token in, and the CLI reads
# (kept out of the user's home).
if not os.environ.get("WEFT_CONFIG"):
    import tempfile
    os.environ["WEFT_CONFIG"] = str(Path(tempfile.mkdtemp(prefix="weft-e2e-")) / "cli.json")
LOG_TAIL_LINES = 150

# Envoy --base-id must differ per Envoy on a machine; start somewhere unlikely
# to collide with another run's Envoys.
_base_ids = itertools.count(1000 + (os.getpid() % 5000) * 10)
_node_ids = itertools.count(1)


# ---------------------------------------------------------------- binaries

def pytest_generate_tests(metafunc):
    """Every test that runs a mesh runs once per data plane: Envoy and weft proxy (both fed by weft control).
    Tests marked envoy_only check Envoy's own behaviour (its config_dump, its NACKs);
    tests marked weft_only check behaviour only weft proxy has (e.g. its graceful drain);
    tests marked control_plane_only start no proxy (simulated xDS clients) and run once;
    tests marked cross_plane name each proxy's data plane themselves (start_envoy(dataplane=...)) and run once."""
    if "dataplane" in metafunc.fixturenames:
        only_envoy = metafunc.definition.get_closest_marker("envoy_only") is not None
        only_weft = metafunc.definition.get_closest_marker("weft_only") is not None
        only_cp = metafunc.definition.get_closest_marker("control_plane_only") is not None
        cross = metafunc.definition.get_closest_marker("cross_plane") is not None
        planes = (["envoy"] if only_envoy else ["weft"] if only_weft else ["none"] if only_cp
                  else ["mixed"] if cross else ["envoy", "weft"])
        metafunc.parametrize("dataplane", planes)


def _binary_from_env(var: str, hint: str) -> str:
    path = os.environ.get(var)
    if not path:
        pytest.fail(f"{var} is not set: {hint}", pytrace=False)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"{var}={path} is not an executable file: {hint}", pytrace=False)
    return path


@pytest.fixture(scope="session")
def weft_bin() -> str:
    return _binary_from_env("WEFT_BIN", "run scripts/test.sh, or export "
                            "WEFT_BIN=$(swift build --show-bin-path)/weft")


@pytest.fixture(scope="session")
def envoy_bin() -> str:
    return _binary_from_env("ENVOY_BIN", "run scripts/test.sh --setup-only, then "
                            "export ENVOY_BIN=$PWD/.venv/bin/envoy")


# ---------------------------------------------------------------- logs on failure

def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as e:
        return f"<cannot read {path}: {e}>"
    rows = text.splitlines()
    head = f"<{len(rows) - lines} earlier lines in {path}>\n" if len(rows) > lines else ""
    return head + "\n".join(rows[-lines:])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for name, path in getattr(item, "_weft_logs", []):
            rep.sections.append((f"{name} ({path})", _tail(path)))


def _metrics(config) -> list[tuple[str, str]]:
    if not hasattr(config, "_weft_metrics"):
        config._weft_metrics = []
    return config._weft_metrics


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    rows = _metrics(config)
    if rows:
        terminalreporter.section("weft e2e measurements")
        for name, value in rows:
            terminalreporter.write_line(f"{name}: {value}")


@pytest.fixture
def report(request) -> Callable[[str, str], None]:
    """report(name, value): printed now and again in the session's closing summary."""
    def _report(name: str, value: str) -> None:
        print(f"[measure] {name}: {value}")
        _metrics(request.config).append((f"{request.node.name}: {name}", value))
    return _report


# ---------------------------------------------------------------- processes

class Proc:
    """A child process whose stdout+stderr go to a log file."""

    def __init__(self, name: str, argv: list[str], log: Path, cwd: Path):
        self.name = name
        self.argv = argv
        self.log = log
        self._fh = open(log, "ab")
        self._fh.write(("$ " + " ".join(argv) + "\n").encode())
        self._fh.flush()
        self.popen = subprocess.Popen(argv, stdout=self._fh, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, cwd=cwd)
        self.pid = self.popen.pid
        self.stopped_on_purpose = False

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, grace: float = 5.0) -> int:
        """SIGTERM, then SIGKILL after grace seconds. Returns the exit code."""
        self.stopped_on_purpose = True
        if self.popen.poll() is None:
            try:
                self.popen.send_signal(signal.SIGTERM)
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        self._fh.close()
        return self.popen.returncode

    def kill(self) -> int:
        self.stopped_on_purpose = True
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(timeout=10)
        self._fh.close()
        return self.popen.returncode


class ControlPlane:
    def __init__(self, mesh: "Mesh", config_dir: Path, extra_args: list[str] | None = None):
        self.mesh = mesh
        self.config_dir = config_dir
        n = len(mesh.control_planes) + 1
        self.log = mesh.tmp / f"weft-control-{n}.log"
        mesh._register_log(f"weft control #{n}", self.log)
        argv = [mesh.weft_bin, "control",
                "--config", str(config_dir), "--data", str(mesh.data_dir),
                "--xds", mesh.xds_addr, "--api", mesh.api_addr, *(extra_args or [])]
        self.proc = Proc(f"weft control #{n}", argv, self.log, mesh.tmp)
        mesh.control_planes.append(self)

    def wait_ready(self, timeout: float = 30.0) -> None:
        url = f"{self.mesh.api_url}/api/v1/status"

        def ready():
            if not self.proc.alive():
                raise_now(f"weft control exited with code {self.proc.popen.returncode} "
                          f"before it was ready; log:\n{_tail(self.log, 60)}")
            try:
                with session() as s:
                    return s.get(url, timeout=1, headers=api_headers(self.mesh.api_addr)).status_code == 200
            except requests.RequestException:
                return False

        wait_until(ready, timeout, 0.1, desc=f"weft control ready at {url}")


class Envoy:
    def __init__(self, mesh: "Mesh", node: str, namespace: str, outbound_port: int,
                 admin_port: int, labels: dict[str, str] | None, inbound: str | None,
                 extra_args: list[str], locality: str | None = None, concurrency: int = 1,
                 dataplane: str | None = None, service_account: str | None = None, token_ttl: float = 3600,
                 outbound_host: str | None = None):
        self.mesh = mesh
        self.node = node
        self.namespace = namespace
        self.host = mesh.host
        # The outbound listeners' address (TCP services' listeners too); another loopback address keeps two proxies'
        # outbound TCP listeners for one service port apart.
        self.outbound_host = outbound_host or mesh.host
        self.outbound_port = outbound_port
        self.admin_port = admin_port
        self.base_id = next(_base_ids)
        self.bootstrap_path = mesh.tmp / f"envoy-{node}.yaml"
        self.log = mesh.tmp / f"envoy-{node}.log"
        argv = [mesh.weft_bin, "bootstrap", "envoy", "--node", node, "--namespace", namespace,
                "--control-plane", mesh.xds_addr,
                "--outbound", hostport(self.outbound_host, outbound_port),
                "--admin", hostport(mesh.host, admin_port)]
        if labels:
            argv += ["--labels", ",".join(f"{k}={v}" for k, v in labels.items())]
        if inbound:
            argv += ["--inbound", inbound]
        if locality:
            argv += ["--locality", locality]
        if service_account:
            argv += ["--service-account", service_account]
        token = mesh.join_token(namespace, service_account or "default", token_ttl)
        if token:
            argv += ["--token", token]
        self.locality = locality
        self.service_account = service_account or "default"
        self.dataplane = dataplane or mesh.dataplane
        if self.dataplane == "weft":
            # `weft proxy` takes the same identity flags as `weft bootstrap envoy`.
            self.log = mesh.tmp / f"weft-proxy-{node}.log"
            self.bootstrap_path.write_text("# weft proxy: " + " ".join(argv[3:]) + "\n")
            mesh._register_log(f"weft proxy {node}", self.log)
            self.proc = Proc(f"weft proxy {node}", [mesh.weft_bin, "proxy", *argv[3:], "--concurrency", str(concurrency),
                                                     "--drain-seconds", "1", *extra_args], self.log, mesh.tmp)
            self.pid = self.proc.pid
            return
        cp = mesh.run_weft(*argv[1:])
        assert cp.returncode == 0, f"weft bootstrap failed ({cp.returncode}):\n{cp.stderr}"
        assert cp.stdout.strip(), "weft bootstrap printed nothing"
        self.bootstrap_path.write_text(cp.stdout)
        mesh._register_log(f"envoy {node}", self.log)
        self.proc = Proc(f"envoy {node}", [
            mesh.envoy_bin, "-c", str(self.bootstrap_path), "--concurrency", str(concurrency),
            "-l", "warning", "--base-id", str(self.base_id), "--disable-hot-restart",
            # As Istio's agent runs it: a listener update (a new policy) drains open connections at their next
            # response instead of over 10 minutes, so changes reach keep-alive callers (docs/security.md).
            "--drain-strategy", "immediate",
            *extra_args,
        ], self.log, mesh.tmp)
        self.pid = self.proc.pid

    @property
    def outbound(self) -> str:
        return hostport(self.outbound_host, self.outbound_port)

    @property
    def admin_url(self) -> str:
        return http_base(self.host, self.admin_port)

    def admin(self, path: str, timeout: float = 3.0) -> requests.Response:
        with session() as s:
            return s.get(self.admin_url + path, timeout=timeout)

    def config_dump(self) -> dict:
        r = self.admin("/config_dump")
        r.raise_for_status()
        return r.json()

    def wait_ready(self, timeout: float = 30.0) -> None:
        def ready():
            if not self.proc.alive():
                raise_now(f"{self.dataplane} {self.node} exited with code {self.proc.popen.returncode}; "
                          f"log:\n{_tail(self.log, 60)}\nbootstrap:\n{self.bootstrap_path.read_text()}")
            try:
                r = self.admin("/ready", timeout=1)
            except requests.RequestException:
                return False
            return r.status_code == 200 and can_connect(self.outbound_host, self.outbound_port)

        wait_until(ready, timeout, 0.1,
                   desc=f"envoy {self.node}: admin /ready == 200 and listener {self.outbound} accepting")

    def request(self, host: str, path: str = "/", headers: dict[str, str] | None = None,
                method: str = "GET", timeout: float = 5.0, sess: requests.Session | None = None,
                **kw) -> requests.Response:
        """Send through the outbound listener with Host: host (a fresh connection unless sess)."""
        h = {"Host": host}
        h.update(headers or {})
        s = sess or session()
        try:
            return s.request(method, http_base(self.outbound_host, self.outbound_port) + path,
                             headers=h, timeout=timeout, allow_redirects=False, **kw)
        finally:
            if sess is None:
                s.close()

    def request_via_proxy(self, url: str, headers: dict[str, str] | None = None,
                          timeout: float = 5.0) -> requests.Response:
        """Absolute-form request, using the outbound listener as an HTTP proxy."""
        s = session()
        try:
            proxy = http_base(self.outbound_host, self.outbound_port)
            return s.get(url, headers=headers or {}, proxies={"http": proxy}, timeout=timeout,
                         allow_redirects=False)
        finally:
            s.close()


class UpstreamProcess:
    """upstream.py as a child process (see Mesh.upstream_process): .kill() is a real SIGKILL, so every
    connection to it dies at once; .restart() starts a new process on the same port."""

    def __init__(self, mesh: "Mesh", service: str, version: str, port: int, health_path: str = "/healthz",
                 nodelay: bool = True):
        self.mesh = mesh
        self.service = service
        self.version = version
        self.host = mesh.host
        self.port = port
        self.health_path = health_path
        self.nodelay = nodelay
        self.starts = 0
        self._start()

    def _start(self) -> None:
        self.starts += 1
        name = f"upstream {self.service}-{self.version}#{self.starts}"
        self.log = self.mesh.tmp / f"upstream-{self.service}-{self.version}-{self.starts}.log"
        self.mesh._register_log(name, self.log)
        self.proc = Proc(name, [sys.executable, str(HERE / "upstream.py"), "--host", self.host,
                                "--port", str(self.port), "--name", self.service,
                                "--version", self.version, "--health-path", self.health_path]
                         + (["--nodelay"] if self.nodelay else []),
                         self.log, self.mesh.tmp)

    def wait_ready(self, timeout: float = 10.0) -> None:
        def ready():
            if not self.proc.alive():
                raise_now(f"{self.proc.name} exited with code {self.proc.popen.returncode}; "
                          f"log:\n{_tail(self.log, 30)}")
            return can_connect(self.host, self.port)

        wait_until(ready, timeout, 0.05, desc=f"{self.proc.name} accepting on {self.host}:{self.port}")

    def kill(self) -> None:
        """SIGKILL; the port is free (nothing listens) afterwards."""
        self.proc.kill()

    def restart(self, timeout: float = 10.0) -> None:
        assert not self.proc.alive(), f"{self.proc.name} is still running"
        self._start()
        self.wait_ready(timeout)

    def __repr__(self) -> str:
        return f"UpstreamProcess({self.service} {self.version} @ {self.host}:{self.port})"


class Mesh:
    """One test's world: a control plane, its Envoys, upstreams, temp dirs."""

    def __init__(self, weft_bin: str, envoy_bin: str, tmp: Path, item, host: str = LOCAL4,
                 dataplane: str = "envoy"):
        self.dataplane = dataplane
        self.weft_bin = weft_bin
        self.envoy_bin = envoy_bin
        self.tmp = tmp
        self.item = item
        self.host = host
        self.config_dir = tmp / "config"
        self.data_dir = tmp / "data"
        self.config_dir.mkdir()
        self.data_dir.mkdir()
        self.xds_port = free_port(host)
        self.api_port = free_port(host)
        self.control_planes: list[ControlPlane] = []
        self.envoys: list[Envoy] = []
        self.upstreams: list[Upstream] = []
        self.app_procs: list[UpstreamProcess] = []
        self._files = itertools.count(1)
        self.cp: ControlPlane | None = None

    # -- addresses
    @property
    def xds_addr(self) -> str:
        return hostport(self.host, self.xds_port)

    @property
    def api_addr(self) -> str:
        return hostport(self.host, self.api_port)

    @property
    def api_url(self) -> str:
        return http_base(self.host, self.api_port)

    def _register_log(self, name: str, path: Path) -> None:
        if not hasattr(self.item, "_weft_logs"):
            self.item._weft_logs = []
        self.item._weft_logs.append((name, path))

    # -- control plane
    def start_control_plane(self, config_dir: Path | None = None, timeout: float = 30.0,
                            extra_args: list[str] | None = None) -> ControlPlane:
        """extra_args: more `weft control` flags (for example --limits FILE)."""
        assert self.cp is None or not self.cp.proc.alive(), "a control plane is already running"
        self.cp = ControlPlane(self, config_dir or self.config_dir, extra_args)
        self.cp.wait_ready(timeout)
        return self.cp

    def stop_control_plane(self) -> int:
        assert self.cp is not None
        return self.cp.proc.stop()

    # -- CLI
    def run_weft(self, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
        return subprocess.run([self.weft_bin, *args], capture_output=True, text=True,
                              timeout=timeout, cwd=self.tmp, stdin=subprocess.DEVNULL)

    def write_input(self, text: str, filename: str | None = None) -> Path:
        d = self.tmp / "inputs"
        d.mkdir(exist_ok=True)
        path = d / (filename or f"input-{next(self._files)}.yaml")
        path.write_text(text)
        return path

    def apply(self, yaml_text: str, filename: str | None = None, check: bool = True
              ) -> subprocess.CompletedProcess:
        """`weft apply -f FILE --server API`; with check, assert exit 0."""
        path = self.write_input(yaml_text, filename)
        cp = self.run_weft("apply", "-f", str(path), "--server", self.api_addr)
        if check:
            assert cp.returncode == 0, (
                f"weft apply -f {path.name} exited {cp.returncode}\nstdout:\n{cp.stdout}\n"
                f"stderr:\n{cp.stderr}\ninput:\n{yaml_text}")
        return cp

    def get(self, kind: str, name: str | None = None, namespace: str = "default",
            output: str | None = None) -> subprocess.CompletedProcess:
        args = ["get", kind] + ([name] if name else []) + ["-n", namespace, "--server", self.api_addr]
        if output:
            args += ["-o", output]
        return self.run_weft(*args)

    def delete(self, kind: str, name: str, namespace: str = "default") -> subprocess.CompletedProcess:
        return self.run_weft("delete", kind, name, "-n", namespace, "--server", self.api_addr)

    # -- HTTP API
    def api(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
            timeout: float = 10.0) -> requests.Response:
        kw: dict[str, Any] = {"headers": {**api_headers(self.api_addr), **(headers or {})}, "timeout": timeout}
        if isinstance(body, (dict, list)):
            kw["json"] = body
        elif isinstance(body, str):
            kw["data"] = body.encode()
            kw["headers"].setdefault("Content-Type", "application/yaml")
        elif body is not None:
            kw["data"] = body
        s = session()
        try:
            return s.request(method, self.api_url + path, **kw)
        finally:
            s.close()

    def xds_credentials(self, token: str | None = None, cert_pem: bytes | None = None,
                        key_pem: bytes | None = None) -> "XDSCredentials":
        """Credentials for a gRPC client of this mesh's xDS port: the root from --data, a throwaway client
        certificate unless one is given, and `token` (default: the admin token, unless a certificate is given)."""
        root = (self.data_dir / "ca" / "root-cert.pem").read_bytes()
        if cert_pem is None:
            cert_pem, key_pem = XDSCredentials.throwaway(self.tmp)
            token = token if token is not None else api_token(self.api_addr)
        return XDSCredentials(root, cert_pem, key_pem, token)

    def join_token(self, namespace: str = "default", service_account: str = "default", ttl: float = 3600) -> str | None:
        """A join token for a proxy of that identity (`weft token create`); None from an --insecure control plane."""
        r = self.api("POST", "/api/v1/tokens", {"namespace": namespace, "serviceAccount": service_account, "ttlSeconds": ttl})
        if r.status_code == 409:
            return None
        assert r.status_code == 200, f"POST /api/v1/tokens: {r.status_code} {r.text}"
        return r.json()["token"]

    def status(self) -> dict:
        r = self.api("GET", "/api/v1/status")
        assert r.status_code == 200, f"status: {r.status_code} {r.text}"
        return r.json()

    def resources(self, kind: str | None = None, namespace: str | None = None,
                  name: str | None = None) -> list[dict]:
        params = {k: v for k, v in (("kind", kind), ("namespace", namespace), ("name", name)) if v}
        s = session()
        try:
            r = s.get(self.api_url + "/api/v1/resources", params=params, timeout=10, headers=api_headers(self.api_addr))
        finally:
            s.close()
        assert r.status_code == 200, f"GET resources: {r.status_code} {r.text}"
        return r.json()["resources"]

    def wait_synced(self, timeout: float = 10.0) -> None:
        """Wait until every connected proxy has answered all that the control plane computed from its current
        config version (`syncedVersion` in the status API): the event that a change reached every proxy, or
        that it changed nothing for them."""
        version = self.status()["version"]

        def behind() -> list[str]:
            return [f"{p['id']} at {p.get('syncedVersion')}" for p in self.status().get("proxies", [])
                    if p.get("connected") and (p.get("syncedVersion") or 0) < version]

        wait_until(lambda: not behind(), timeout, 0.02,
                   desc=lambda: f"every proxy in sync with config version {version} (behind: {behind()})")

    def proxy_status(self, node: str) -> dict | None:
        for p in self.status().get("proxies", []):
            if p.get("id") == node:
                return p
        return None

    # -- config directory
    def write_config(self, filename: str, text: str, config_dir: Path | None = None) -> Path:
        """Atomically (write + rename) put a file into the watched config folder."""
        d = config_dir or (self.cp.config_dir if self.cp else self.config_dir)
        tmp = d / f".{filename}.tmp"
        tmp.write_text(text)
        os.replace(tmp, d / filename)
        return d / filename

    # -- upstreams
    def upstream(self, service: str, version: str, host: str | None = None, nodelay: bool = False) -> Upstream:
        """An in-process Upstream (see upstream.py); nodelay: no ~40 ms Nagle/delayed-ACK wait per response."""
        u = Upstream(service, version, host or self.host, nodelay=nodelay).start()
        self.upstreams.append(u)
        return u

    def upstream_process(self, service: str, version: str, port: int | None = None,
                         health_path: str = "/healthz", timeout: float = 10.0,
                         nodelay: bool = True) -> "UpstreamProcess":
        """upstream.py in its own process (so a test can SIGKILL it), on port (a free one if None);
        waits until it accepts connections. Answers like Upstream; no request log in this process."""
        u = UpstreamProcess(self, service, version, port or free_port(self.host), health_path, nodelay)
        self.app_procs.append(u)
        u.wait_ready(timeout)
        return u

    def reviews(self, versions=("v1", "v2")) -> dict[str, Upstream]:
        """Start reviews upstreams and apply ServiceEntry + WorkloadEntries + DestinationRule."""
        ups = {v: self.upstream("reviews", v) for v in versions}
        self.apply(service_with_versions("reviews", {v: u.port for v, u in ups.items()},
                                         address=self.host))
        return ups

    # -- envoys
    def start_envoy(self, node: str | None = None, namespace: str = "default",
                    outbound_port: int | None = None, labels: dict[str, str] | None = None,
                    inbound: str | None = None, admin_port: int | None = None,
                    extra_args: list[str] | None = None, wait: bool = True,
                    locality: str | None = None, concurrency: int = 1, dataplane: str | None = None,
                    service_account: str | None = None, token_ttl: float = 3600, outbound_host: str | None = None) -> Envoy:
        """locality: the proxy's --locality (region[/zone[/subzone]]) for locality-aware load balancing;
        concurrency: worker threads (event loops), the same flag for Envoy and weft proxy;
        dataplane: "envoy" or "weft" for this proxy (default: the test's data plane), for tests across planes;
        service_account: the proxy's --service-account (its SPIFFE identity);
        token_ttl: lifetime of the join token the proxy is started with (seconds);
        outbound_host: the address of its outbound listeners (default: the mesh's host)."""
        node = node or f"sidecar-{next(_node_ids)}.{namespace}"
        e = Envoy(self, node, namespace, outbound_port or free_port(self.host),
                  admin_port or free_port(self.host), labels, inbound, extra_args or [], locality, concurrency,
                  dataplane, service_account, token_ttl, outbound_host)
        self.envoys.append(e)
        if wait:
            e.wait_ready()
        return e

    # -- traffic through the first (or given) Envoy
    def request(self, host: str, path: str = "/", headers: dict[str, str] | None = None,
                envoy: Envoy | None = None, **kw) -> requests.Response:
        e = envoy or self.envoys[0]
        return e.request(host, path, headers, **kw)

    def sample(self, host: str, n: int, path: str = "/", headers: dict[str, str] | None = None,
               envoy: Envoy | None = None) -> Counter:
        """n requests over one keep-alive connection; Counter of version_of()."""
        e = envoy or self.envoys[0]
        c: Counter = Counter()
        with session() as s:
            for _ in range(n):
                c[version_of(e.request(host, path, headers, sess=s))] += 1
        return c

    def wait_routing(self, host: str, expect: str, timeout: float = 10.0, path: str = "/",
                     headers: dict[str, str] | None = None, envoy: Envoy | None = None,
                     streak: int = 5) -> float:
        """Wait until `streak` consecutive requests give `expect` (see version_of); return seconds."""
        t0 = time.monotonic()
        seen: list[str] = []

        def ok():
            got = [version_of(self.request(host, path, headers, envoy=envoy, timeout=3))
                   for _ in range(streak)]
            seen[:] = got
            return all(g == expect for g in got)

        wait_until(ok, timeout, 0.02,
                   desc=lambda: f"requests to {host}{path} answering {expect!r} (last: {seen})")
        return time.monotonic() - t0

    # -- teardown
    def close(self) -> list[str]:
        problems: list[str] = []
        for e in self.envoys:
            if not e.proc.alive() and not e.proc.stopped_on_purpose:
                problems.append(f"envoy {e.node} died during the test "
                                f"(exit {e.proc.popen.returncode}); see {e.log}")
        for c in self.control_planes:
            if not c.proc.alive() and not c.proc.stopped_on_purpose:
                problems.append(f"weft control died during the test "
                                f"(exit {c.proc.popen.returncode}); see {c.log}")
        for e in self.envoys:
            e.proc.stop()
        for c in self.control_planes:
            c.proc.stop()
        for u in self.upstreams:
            u.stop()
        for a in self.app_procs:
            a.proc.kill()
        for p in [e.proc for e in self.envoys] + [c.proc for c in self.control_planes]:
            if p.alive():
                problems.append(f"{p.name} (pid {p.pid}) is still running after teardown")
        return problems


@pytest.fixture
def make_mesh(weft_bin, envoy_bin, tmp_path, request, dataplane):
    """make_mesh(host="127.0.0.1", start=True) -> Mesh; everything is torn down after the test."""
    meshes: list[Mesh] = []

    def _make(host: str = LOCAL4, start: bool = True, control_args: list[str] | None = None) -> Mesh:
        d = tmp_path / f"mesh{len(meshes) + 1}"
        d.mkdir()
        m = Mesh(weft_bin, envoy_bin, d, request.node, host, dataplane)
        meshes.append(m)
        if start:
            m.start_control_plane(extra_args=control_args)
        return m

    try:
        yield _make
    finally:
        problems: list[str] = []
        for m in meshes:
            problems += m.close()
        if problems:
            pytest.fail("teardown: " + "; ".join(problems), pytrace=False)


@pytest.fixture
def mesh(make_mesh) -> Mesh:
    """A running control plane on 127.0.0.1 with empty config and data folders."""
    return make_mesh()


@pytest.fixture
def reviews_mesh(mesh) -> Mesh:
    """mesh + reviews v1/v2 upstreams + their ServiceEntry/WorkloadEntries/DestinationRule
    + one Envoy (mesh.envoys[0]). mesh.ups = {"v1": Upstream, "v2": Upstream}."""
    mesh.ups = mesh.reviews()
    mesh.start_envoy()
    return mesh


