#!/usr/bin/env python3
"""Scale check of weft control's xDS server: 1,000 services, 500 simulated ADS clients (real gRPC streams) in a
handful of distinct proxy views. Measures the time until every client is in sync, first and after one change,
how many translations each took (the cache makes it one per view), the control plane's memory, and the bytes
sent. Prints the figures; with --record appends them to docs/BENCHMARKS.md.

Usage: .venv/bin/python bench/xds-scale.py [--services 1000] [--clients 500] [--scopes 5] [--record]
Needs the venv of scripts/test.sh (grpcio, requests) and a built weft (swift build, or WEFT_BIN)."""

from __future__ import annotations

import argparse
import datetime
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import requests  # noqa: E402

from helpers import XDSCredentials, api_headers, api_token  # noqa: E402
from xds_load import rss_kib, scale_check, service_entries  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=500)
    ap.add_argument("--scopes", type=int, default=5)
    ap.add_argument("--record", action="store_true")
    a = ap.parse_args()
    weft = os.environ.get("WEFT_BIN") or subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, text=True,
                                                        capture_output=True, check=True).stdout.strip() + "/weft"
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp, "config")
        config.mkdir()
        (config / "services.yaml").write_text(service_entries(a.services))
        xds, api = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
        log = open(Path(tmp, "control.log"), "w")
        cp = subprocess.Popen([weft, "control", "--config", str(config), "--data", str(Path(tmp, "data")),
                               "--xds", xds, "--api", api], stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://{api}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(url + "/api/v1/status", timeout=2, headers=api_headers(api)).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline or cp.poll() is not None:
                    print(open(Path(tmp, "control.log")).read()[-3000:])
                    raise SystemExit("weft control did not start")
                time.sleep(0.1)

            def apply(text: str) -> None:
                r = requests.post(url + "/api/v1/apply", data=text.encode(), timeout=60,
                                  headers={"Content-Type": "application/yaml", **api_headers(api)})
                assert r.status_code == 200, r.text

            rss_idle = rss_kib(cp.pid)
            # Over TLS with the admin token, as proxies reach a control plane not run --insecure.
            cert, key = XDSCredentials.throwaway(tmp)
            creds = XDSCredentials(Path(tmp, "data", "ca", "root-cert.pem").read_bytes(), cert, key, api_token(api))
            r = scale_check(url, xds, cp.pid, apply, a.clients, a.scopes,
                            service_entries(1).replace("svc-0", "svc-new"), timeout=600, credentials=creds)
        finally:
            cp.terminate()
            cp.wait(10)
    lines = [
        f"services {a.services}, clients {a.clients}, distinct views {a.scopes}",
        f"first sync of every client: {r['first_sync_s']:.2f} s, {r['translations_first']} translations, "
        f"{r['bytes_first'] / 1e6:.1f} MB sent, control plane CPU {r['cpu_first_s']:.1f} s",
        f"one change (a new service) in sync everywhere: {r['change_sync_s']:.2f} s, "
        f"{r['translations_change']} translations, {r['bytes_change'] / 1e6:.1f} MB sent, "
        f"control plane CPU {r['cpu_change_s']:.1f} s",
        f"control plane RSS: {rss_idle / 1024:.1f} MiB with the config loaded, "
        f"{r['rss_connected_kib'] / 1024:.1f} MiB with every client connected, {r['rss_after_kib'] / 1024:.1f} MiB after the change",
        f"client errors: {len(r['errors'])}",
    ]
    print("\n".join(lines))
    ok = not r["errors"] and r["translations_change"] == a.scopes
    if a.record:
        with open(ROOT / "docs" / "BENCHMARKS.md", "a") as f:
            f.write(f"\n### xDS scale check, {datetime.date.today()} (bench/xds-scale.py, debug build unless noted)\n\n")
            f.write("".join(f"- {x}\n" for x in lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
