"""Reading Prometheus text from a proxy's admin `/stats/prometheus` (Envoy and weft proxy serve the same path),
and a real Prometheus server for the tests that scrape through weft control's service discovery."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import requests

from helpers import free_port, hostport, http_base, session, wait_until

_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Every sample: (name, labels, value)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            continue
        labels = {k: v.encode().decode("unicode_escape") for k, v in _LABEL.findall(m.group(2) or "")}
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def scrape(proxy) -> list[tuple[str, dict[str, str], float]]:
    r = proxy.admin("/stats/prometheus")
    r.raise_for_status()
    return parse(r.text)


def total(samples, name: str, **want: str) -> float:
    """The sum of `name` over the samples whose labels include `want`."""
    return sum(v for n, labels, v in samples if n == name and all(labels.get(k) == x for k, x in want.items()))


def series(samples, name: str, **want: str) -> list[dict[str, str]]:
    return [labels for n, labels, _ in samples if n == name and all(labels.get(k) == x for k, x in want.items())]


def delta(after, before, name: str, **want: str) -> float:
    return total(after, name, **want) - total(before, name, **want)


class Prometheus:
    """A real Prometheus (Debian's `prometheus`) scraping what weft control's HTTP service discovery lists, every
    second, on loopback."""

    def __init__(self, mesh, token: str = ""):
        self.mesh = mesh
        self.port = free_port(mesh.host)
        self.dir = mesh.tmp / "prometheus"
        self.dir.mkdir(exist_ok=True)
        # `type: Bearer` written out: Debian's Prometheus 2.42 sends http_sd credentials without it otherwise.
        auth = f"    authorization:\n      type: Bearer\n      credentials: {token}\n" if token else ""
        config = (
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n- job_name: weft\n  scrape_interval: 1s\n  http_sd_configs:\n"
            f"  - url: {mesh.api_url}/api/v1/prometheus/targets\n    refresh_interval: 1s\n{auth}"
        )
        (self.dir / "prometheus.yml").write_text(config)
        self.log = self.dir / "prometheus.log"
        mesh._register_log("prometheus", self.log)
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={self.dir / 'prometheus.yml'}", f"--storage.tsdb.path={self.dir / 'data'}",
             f"--web.listen-address={hostport(mesh.host, self.port)}"],
            stdout=open(self.log, "wb"), stderr=subprocess.STDOUT)

    @property
    def url(self) -> str:
        return http_base(self.mesh.host, self.port)

    def query(self, promql: str) -> list[dict]:
        with session() as s:
            r = s.get(self.url + "/api/v1/query", params={"query": promql}, timeout=5)
        r.raise_for_status()
        body = r.json()
        assert body["status"] == "success", body
        return body["data"]["result"]

    def wait_ready(self, timeout: float = 30) -> None:
        def ready():
            assert self.proc.poll() is None, f"prometheus exited:\n{Path(self.log).read_text()[-3000:]}"
            try:
                with session() as s:
                    return s.get(self.url + "/-/ready", timeout=1).status_code == 200
            except requests.RequestException:
                return False
        wait_until(ready, timeout, 0.2, desc="prometheus /-/ready")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
