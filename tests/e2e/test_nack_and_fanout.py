"""Envoy refusing config (NACK) and convergence of several proxies at once."""

from __future__ import annotations

import threading
import time

import pytest

from helpers import TYPE_ROUTE, route_all, version_of, virtual_service, wait_until

# Compiles as a regular expression (so Weft accepts it) but exceeds RE2's default program size of 100,
# which Envoy enforces: Envoy refuses the route configuration.
HUGE_REGEX = "^/(" + "|".join(c * 12 for c in "abcdefghijklmnop") + ")+/[0-9]{30}$"


@pytest.mark.envoy_only
def test_nack_keeps_last_good_config(reviews_mesh, report):
    m = reviews_mesh
    e = m.envoys[0]
    m.apply(route_all("v1"))
    m.wait_routing("reviews", "v1")

    cp = m.apply(virtual_service(f"""
        - match:
          - uri:
              regex: "{HUGE_REGEX}"
          route:
          - destination:
              host: reviews
              subset: v2
        - route:
          - destination:
              host: reviews
              subset: v2
        """))
    assert cp.returncode == 0, cp.stderr
    t0 = time.monotonic()
    p = wait_until(lambda: (m.proxy_status(e.node) or {}).get("nack") and m.proxy_status(e.node), 5, 0.05,
                   desc="a NACK from Envoy in status")
    report("NACK visible in status after", f"{(time.monotonic() - t0) * 1000:.0f} ms")
    assert TYPE_ROUTE in p["nack"], p["nack"]
    assert "regex" in p["nack"].lower() or "program size" in p["nack"].lower(), p["nack"]
    # Envoy keeps its last good config: everything still goes to v1
    assert m.sample("reviews", 20) == {"v1": 20}

    # a good change is accepted again and clears the NACK
    m.apply(route_all("v2"))
    m.wait_routing("reviews", "v2")
    wait_until(lambda: not (m.proxy_status(e.node) or {}).get("nack"), 5, 0.05, desc="NACK cleared by the next ACK")


def test_many_proxies_converge_within_a_second(reviews_mesh, report):
    m = reviews_mesh
    envoys = [m.envoys[0]] + [m.start_envoy() for _ in range(3)]
    m.apply(route_all("v1"))
    for e in envoys:
        m.wait_routing("reviews", "v1", envoy=e)

    done: dict[str, float] = {}

    def watch(e):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if version_of(e.request("reviews", timeout=2)) == "v2":
                    done[e.node] = time.monotonic()
                    return
            except Exception:  # noqa: BLE001 - keep polling until the deadline
                pass
            time.sleep(0.01)

    threads = [threading.Thread(target=watch, args=(e,), daemon=True) for e in envoys]
    t0 = time.monotonic()
    m.apply(route_all("v2"))
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert len(done) == len(envoys), f"only {sorted(done)} converged"
    slowest = max(done.values()) - t0
    report(f"{len(envoys)} Envoys converged (apply start -> last proxy on v2)", f"{slowest * 1000:.0f} ms")
    assert slowest < 1.0, slowest
