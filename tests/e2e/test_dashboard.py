"""The live dashboard `weft control` serves, in a real headless Chromium, on the demo shop: it loads without
console errors, shows the shop's services and edges with non-zero rates and every proxy synced, and shows a canary
weight change (routes and traffic by version) within seconds. A screenshot is kept in the test's folder."""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import pytest

from helpers import wait_until
from meshup import WeftUp

CANARY = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - name: canary
    route:
    - destination: {host: reviews, subset: v1}
      weight: 50
    - destination: {host: reviews, subset: v3}
      weight: 50
"""


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        pytest.fail("chromium is not installed (scripts/test.sh installs Debian's chromium)")
    return exe


def browse(url: str, out_dir, name: str, screenshot: bool = False) -> tuple[str, list[str]]:
    """Loads url in headless Chromium, lets its scripts run (virtual time, network waited for), and returns the DOM
    after them and the page's console messages. With screenshot, also writes out_dir/name.png."""
    base = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--enable-logging=stderr", "--v=0", f"--user-data-dir={out_dir / ('chrome-' + name)}",
            "--virtual-time-budget=6000", "--window-size=1400,1000"]
    cp = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=90)
    assert cp.returncode == 0, cp.stderr[-2000:]
    console = [ln for ln in cp.stderr.splitlines() if ":CONSOLE" in ln]
    if screenshot:
        shot = subprocess.run([*base, f"--screenshot={out_dir / (name + '.png')}", url], capture_output=True, text=True, timeout=90)
        assert shot.returncode == 0, shot.stderr[-2000:]
        console += [ln for ln in shot.stderr.splitlines() if ":CONSOLE" in ln]
    return cp.stdout, console


def text_of(dom: str) -> str:
    """The page's visible text (scripts and styles left out), whitespace squeezed."""
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))


def test_dashboard_in_a_headless_browser(weft_bin, tmp_path, request, report):
    demo = WeftUp(weft_bin, tmp_path, ["demo"], item=request.node, name="weft-demo")
    try:
        demo.wait_ready(90)
        out = demo.output()
        m = re.search(r"dashboard: (http://\S+/dashboard#token=\S+)", out)
        assert m, out[-2000:]
        url = m.group(1)

        def graph():
            return demo.api_get("/api/v1/graph")

        def has(g, source: str, service: str, version: str | None = None) -> bool:
            return any(e["key"]["source"] == source and e["key"]["serviceName"] == service and e["rps"] > 0
                       and (version is None or e["key"]["version"] == version) for e in g["edges"])
        wait_until(lambda: has(graph(), "front-v1", "reviews") and has(graph(), "front-v1", "details"), 30, 0.5,
                   desc="the loadgen's calls in the service graph")

        dom, console = browse(url + "&service=reviews", tmp_path, "dashboard", screenshot=True)
        report("dashboard screenshot", str(tmp_path / "dashboard.png"))
        assert console == [], console
        text = text_of(dom)
        assert "Service graph" in text and "Weft mesh" in text
        rows = re.findall(r"<tr><td>([^<]+)</td><td>default</td>", dom)
        for svc in ("front", "details", "reviews", "ratings"):
            assert svc in rows, (svc, rows)
        # Edges drawn with their rates: front's calls to details and reviews, at the loadgen's pace.
        labels = re.findall(r'class="elabel"[^>]*>([^<]+)<', dom)
        assert sum(1 for lb in labels if re.match(r"[1-9][0-9]*\.[0-9]/s", lb)) >= 3, labels
        assert len(re.findall(r"\bweft synced\b", text)) == 7, text  # every proxy in the proxies table
        assert "reviews (default)" in text and "Routes in effect" in text

        # A canary weight change shows: the route at once, traffic to v3 once the proxies' metrics have it.
        t0 = time.monotonic()
        path = tmp_path / "canary.yaml"
        path.write_text(CANARY)
        cp = subprocess.run([weft_bin, "apply", "-f", str(path), "--server", demo.api], capture_output=True, text=True, timeout=30)
        assert cp.returncode == 0, cp.stderr
        wait_until(lambda: has(graph(), "front-v1", "reviews", "v3"), 30, 0.5, desc="reviews v3 traffic in the graph")

        def shows_canary():
            d, c = browse(url + "&service=reviews", tmp_path, "canary")
            assert c == [], c
            t = text_of(d)
            return "default/reviews canary" in t and re.search(r"reviews v3 50", t) and re.search(r"v3 [0-9.]+ [0-9.]+%", t)
        wait_until(shows_canary, 30, 1, desc="the dashboard showing the canary route and v3's traffic")
        report("dashboard: canary applied to shown (s)", f"{time.monotonic() - t0:.1f}")
        browse(url + "&service=reviews", tmp_path, "dashboard-canary", screenshot=True)
    finally:
        assert not demo.close()
