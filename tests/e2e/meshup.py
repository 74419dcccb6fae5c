"""Helpers for the tests of `weft up`, `weft run` and `weft demo`: start the command as a real process in its
own session, read its workloads.json, find every process it started, send traffic through the sidecars, read
the sidecars' metrics, and make sure nothing is left behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import requests

import sys

from helpers import api_headers, free_port, hostport, session, wait_until

UPSTREAM = Path(__file__).resolve().parent / "upstream.py"


def mesh_yaml(extra: str = "") -> str:
    """The test mesh: the weft-sample shop's front, details, reviews v1/v2 and ratings, plus `legacy`, a
    Python HTTP server started by a shell line (no Weft code in it) that its user wrote with `exec` in front."""
    return MESH_YAML.format(extra=extra, python=sys.executable, upstream=UPSTREAM)

MESH_YAML = """\
config: istio
options: {{ttl: 3s, restartBackoff: 200ms{extra}}}
services:
- {{name: front, version: v1, command: weft-sample front, port: 9080}}
- {{name: details, version: v1, command: weft-sample details, port: 9080}}
- {{name: reviews, version: v1, command: weft-sample reviews, port: 9080}}
- {{name: reviews, version: v2, command: weft-sample reviews, port: 9080}}
- {{name: ratings, version: v1, command: weft-sample ratings, port: 9080}}
- name: legacy
  command: exec {python} {upstream} --port $PORT --host $WEFT_HOST --name legacy --version v7
  port: 9090
"""

REVIEWS_DR = """\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
"""


def descendants(pid: int) -> set[int]:
    """Every live process below pid (children, grandchildren, ...), from /proc."""
    parents: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        parents[int(d)] = int(stat.rsplit(")", 1)[1].split()[1])
    out: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - out
        out |= frontier
    return out


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def prom(text: str, metric: str) -> dict[str, int]:
    """{cluster: value} of one weft proxy counter."""
    out = {}
    for m in re.finditer(rf'^{metric}{{cluster="([^"]*)"}} (\d+)$', text, re.M):
        out[m.group(1)] = int(m.group(2))
    return out


class WeftProcess:
    """`weft up|demo|run ...` as a child in its own session, output in a log file; tracks every pid it starts."""

    def __init__(self, weft_bin: str, args: list[str], tmp: Path, name: str, item=None):
        self.tmp = tmp
        self.log = tmp / f"{name}.log"
        self._fh = open(self.log, "ab")
        self.popen = subprocess.Popen([weft_bin, *args], stdout=self._fh, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, cwd=tmp, start_new_session=True)
        self.pid = self.popen.pid
        self.seen: set[int] = set()
        if item is not None:
            item._weft_logs = getattr(item, "_weft_logs", []) + [(name, self.log)]

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def track(self) -> set[int]:
        """Remember (and return) the processes running below weft now."""
        now = descendants(self.pid)
        self.seen |= now
        return now

    def signal(self, sig: int = signal.SIGINT, timeout: float = 20.0) -> int:
        self.track()
        self.popen.send_signal(sig)
        return self.popen.wait(timeout=timeout)

    def close(self) -> list[int]:
        """Stop weft if it runs; kill and return any process it left behind."""
        if self.popen.poll() is None:
            self.track()
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        left = sorted(p for p in self.seen if alive(p))
        for p in left:
            try:
                os.killpg(p, signal.SIGKILL)
            except OSError:
                pass
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        self._fh.close()
        return left


class WeftUp(WeftProcess):
    """`weft up` (or `weft demo`) with its control plane on free ports and its state in tmp/state."""

    def __init__(self, weft_bin: str, tmp: Path, args: list[str], ipv6: bool = False, item=None, name: str = "weft-up"):
        self.cp_host = "::1" if ipv6 else "127.0.0.1"
        self.api = hostport(self.cp_host, free_port(self.cp_host))
        self.xds = hostport(self.cp_host, free_port(self.cp_host))
        self.state_dir = tmp / "state"
        super().__init__(weft_bin, [*args, "--xds", self.xds, "--api", self.api, "--state-dir", str(self.state_dir)],
                         tmp, name, item)

    @property
    def api_url(self) -> str:
        return "http://" + self.api

    def state(self) -> dict:
        return json.loads((self.state_dir / "workloads.json").read_text())

    def workloads(self) -> dict[str, dict]:
        return {w["name"]: w for w in self.state()["workloads"]}

    def wait_ready(self, timeout: float = 60.0) -> dict[str, dict]:
        def ready():
            if self.popen.poll() is not None:
                raise AssertionError(f"weft exited with {self.popen.returncode}:\n{self.output()[-3000:]}")
            ws = self.workloads()
            ok = ws and all(w["registered"] and w["appPid"] and w["sidecarPid"] for w in ws.values())
            return ws if ok and "Ctrl-C stops everything" in self.output() else None
        ws = wait_until(ready, timeout, 0.1, desc=lambda: f"all workloads ready; output:\n{self.output()[-2000:]}")
        self.track()
        return ws

    def api_get(self, path: str) -> dict:
        with session() as s:
            r = s.get(self.api_url + path, timeout=5, headers=api_headers(self.api))
        r.raise_for_status()
        return r.json()

    def apply(self, yaml_text: str, weft_bin: str) -> None:
        path = self.tmp / f"apply-{time.monotonic_ns()}.yaml"
        path.write_text(yaml_text)
        cp = subprocess.run([weft_bin, "apply", "-f", str(path), "--server", self.api], capture_output=True, text=True, timeout=30)
        assert cp.returncode == 0, cp.stderr

    def metrics(self, workload: str) -> str:
        admin = self.workloads()[workload]["admin"]
        with session() as s:
            return s.get(f"http://{admin}/stats/prometheus", timeout=5).text

    def inbound_requests(self, workload: str) -> int:
        return sum(v for k, v in prom(self.metrics(workload), "weft_cluster_upstream_rq_total").items() if k.startswith("inbound|"))

    def outbound_requests(self, workload: str, host_part: str) -> int:
        return sum(v for k, v in prom(self.metrics(workload), "weft_cluster_upstream_rq_total").items()
                   if k.startswith("outbound|") and host_part in k)

    def get(self, workload: str, path: str = "/api", headers: dict | None = None, timeout: float = 5) -> requests.Response:
        """GET the workload's service port: its sidecar's inbound listener."""
        inbound = self.workloads()[workload]["services"][0]["inbound"]
        with session() as s:
            return s.get(f"http://{inbound}{path}", headers=headers or {}, timeout=timeout)

    def via(self, workload: str, url: str, headers: dict | None = None) -> requests.Response:
        """GET url through the workload's outbound listener, used as an HTTP proxy (as its app does)."""
        outbound = self.workloads()[workload]["outbound"]
        with session() as s:
            return s.get(url, headers=headers or {}, proxies={"http": f"http://{outbound}"}, timeout=5)


def reviews_versions(up: WeftUp, n: int, headers: dict | None = None) -> Counter:
    """n front-page API calls; Counter of the reviews version that answered each."""
    c: Counter = Counter()
    for _ in range(n):
        r = up.get("front-v1", "/api", headers)
        assert r.status_code == 200, r.text[:300]
        c[r.json()["reviews"].get("version", "error")] += 1
    return c
