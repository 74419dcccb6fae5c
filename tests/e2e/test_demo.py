"""`weft demo`: the bundled shop starts with one command, its front page answers through the mesh, the load
generator's traffic goes through the sidecars, the --once walk-through shows each recipe working, and
everything stops cleanly."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from helpers import session, wait_until
from meshup import WeftUp, alive

ROOT = Path(__file__).resolve().parents[2]


def test_demo_front_page_through_the_mesh(weft_bin, tmp_path, request, report):
    t0 = time.monotonic()
    demo = WeftUp(weft_bin, tmp_path, ["demo"], item=request.node, name="weft-demo")
    try:
        ws = demo.wait_ready(90)
        report("weft demo: start to all workloads ready (s)", f"{time.monotonic() - t0:.2f}")
        assert {"front-v1", "details-v1", "reviews-v1", "reviews-v2", "reviews-v3", "ratings-v1", "loadgen"} == set(ws)
        out = demo.output()
        url = re.search(r"Front page: (http://\S+)", out).group(1)
        assert url == f"http://{ws['front-v1']['services'][0]['inbound']}/"
        for recipe in ("canary-10.yaml", "header-jason.yaml", "fault-ratings.yaml", "rollback.yaml"):
            assert recipe in out
        with session() as s:
            page = s.get(url, timeout=5)
            jason = s.get(url + "?user=jason", timeout=5)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "The Comedy of Errors" in page.text and "served by front v1 · details v1 · reviews v1" in page.text, page.text
        assert "Signed in as <b>jason</b>" in jason.text
        # The load generator's calls reach the front page through its sidecar and the front's.
        wait_until(lambda: demo.outbound_requests("loadgen", "front") >= 5 and demo.inbound_requests("front-v1") >= 5, 15, 0.2,
                   desc="loadgen traffic through the sidecars")
        pids = demo.track()
        t1 = time.monotonic()
        assert demo.signal(signal.SIGINT) == 0, demo.output()[-2000:]
        report("weft demo: SIGINT to stopped (s)", f"{time.monotonic() - t1:.2f}")
        assert [p for p in pids if alive(p)] == []
    finally:
        assert not demo.close()


def test_demo_once_walks_through_the_recipes(weft_bin, tmp_path, request, report):
    # The weft binary alone, copied to a folder with nothing beside it, runs the whole demo.
    lone = tmp_path / "lone" / "weft"
    lone.parent.mkdir()
    shutil.copy2(weft_bin, lone)
    demo = WeftUp(str(lone), tmp_path, ["demo", "--once"], item=request.node, name="weft-demo-once")
    try:
        wait_until(lambda: demo.popen.poll() is not None or demo.track() and False, 120, 0.2, desc="weft demo --once to finish")
        assert demo.popen.returncode == 0, demo.output()[-3000:]
        out = demo.output()
        assert "HTTP 200" in out and "the shop's page" in out, out
        canary = re.search(r"200 requests: reviews v1=(\d+) v3=(\d+)", out)
        assert canary, out
        report("demo canary: v3 share of 200 (want 0.10)", f"{int(canary.group(2)) / 200:.3f}")
        assert 5 <= int(canary.group(2)) <= 40
        assert "as jason: reviews v2=10; anonymous: reviews v1=10" in out
        shown, unavailable = map(int, re.search(r"ratings shown (\d+), ratings unavailable (\d+)", out).groups())
        assert 8 <= unavailable <= 32, out
        assert out.rstrip().endswith("stopped; logs in " + str(demo.state_dir / "logs"))
        assert [p for p in demo.seen if alive(p)] == []
    finally:
        assert not demo.close()


def test_demo_export_matches_examples(weft_bin, tmp_path):
    cp = subprocess.run([weft_bin, "demo", "--export", str(tmp_path / "shop")], capture_output=True, text=True, timeout=30)
    assert cp.returncode == 0, cp.stderr
    exported = sorted(p.relative_to(tmp_path / "shop") for p in (tmp_path / "shop").rglob("*.yaml"))
    bundled = sorted(p.relative_to(ROOT / "examples/shop") for p in (ROOT / "examples/shop").rglob("*.yaml"))
    assert exported == bundled
    for rel in exported:
        assert (tmp_path / "shop" / rel).read_text() == (ROOT / "examples/shop" / rel).read_text(), rel
