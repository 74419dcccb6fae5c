"""Locality-aware load balancing, on both data planes: a proxy started with --locality prefers endpoints
in its own zone, then its region, then other regions (localityLbSetting.failover picks which), moving
on when active health checks fail; `distribute` splits traffic by weight; invalid values refused."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from helpers import (
    assert_no_nack,
    cluster_lines, destination_rule_annotated, destination_rule_with_policy, docs, health_annotations,
    host_health_flags, service_entry, virtual_service, wait_until, with_locality, workload_entry,
)

REVIEWS = "reviews.default.svc.cluster.local"
CLUSTER = f"outbound|9080||{REVIEWS}"
FAILED = "failed_active_hc"
FAST_HC = health_annotations("http", interval="300ms", timeout="200ms", unhealthy=2, healthy=1)

NO_RETRY_VS = virtual_service("""
    - route:
      - destination:
          host: reviews
      retries:
        attempts: 0
    """)


def _we(m, name: str, port: int, locality: str) -> str:
    return with_locality(workload_entry(f"reviews-{name}", m.host, port, {"app": "reviews", "version": name}),
                         locality)


def _wait_failed(e, addr: str, failed: bool = True, timeout: float = 10.0) -> None:
    wait_until(lambda: (flags := host_health_flags(e, CLUSTER, addr)) is not None and (FAILED in flags) == failed,
               timeout, 0.05, desc=lambda: f"{addr} {'' if failed else 'not '}{FAILED}; {cluster_lines(e, CLUSTER)}")


def _moves_to(m, e, dead_addr: str, version: str, lags: dict[str, float], step: str, n: int = 20) -> dict:
    """After an endpoint died: wait until e's admin shows it failed_active_hc, then until e routes to
    version; record that second wait (lag) and return the Counter of n more requests.

    The translation sets update_merge_window to 0 on health-checked clusters, so Envoy's load balancer sees a
    health change as soon as its admin shows it (Envoy's default window of 1 s would batch them)."""
    _wait_failed(e, dead_addr)
    t0 = time.monotonic()
    m.wait_routing("reviews", version, envoy=e, timeout=5)
    lags[step] = round(time.monotonic() - t0, 2)
    return dict(m.sample("reviews", n, path="/loc-after", envoy=e))


def _all_to(m, version: str, e, n: int = 20) -> Counter:
    """Wait until e routes to version, then n more requests; return their Counter."""
    m.wait_routing("reviews", version, envoy=e, timeout=10)
    return m.sample("reviews", n, path="/loc", envoy=e)


def test_locality_priorities_and_failover_chain(mesh, report):
    """Caller in r1/z1; endpoints a r1/z1, b r1/z2, c r2/z1 (c registered through the API): a takes all traffic;
    a killed -> b; b killed -> c; a restarted -> a again. A caller in r2/z1 sends everything to c."""
    m = mesh
    a = m.upstream_process("reviews", "a")
    b = m.upstream_process("reviews", "b")
    c = m.upstream_process("reviews", "c")
    m.apply(docs(service_entry("reviews"), _we(m, "a", a.port, "r1/z1"), _we(m, "b", b.port, "r1/z2"),
                 destination_rule_annotated("reviews", FAST_HC), NO_RETRY_VS))
    r = m.api("POST", "/api/v1/workloads", {
        "name": "reviews-c", "namespace": "default", "addresses": [m.host],
        "labels": {"app": "reviews", "version": "c"}, "ports": {"http": c.port},
        "ttlSeconds": 600, "locality": "r2/z1"})
    assert r.status_code in (200, 201), f"registration: {r.status_code} {r.text}"
    e = m.start_envoy(locality="r1/z1")
    other = m.start_envoy(locality="r2/z1")
    addr = {n: f"{m.host}:{u.port}" for n, u in (("a", a), ("b", b), ("c", c))}
    for n in addr:
        _wait_failed(e, addr[n], failed=False)

    steps: dict[str, dict] = {}
    steps["r1/z1 caller, all up"] = dict(_all_to(m, "a", e))
    steps["r2/z1 caller, all up"] = dict(_all_to(m, "c", other))
    assert steps["r1/z1 caller, all up"] == {"a": 20}, steps
    assert steps["r2/z1 caller, all up"] == {"c": 20}, f"a caller in r2/z1 prefers c: {steps}"

    lags: dict[str, float] = {}
    a.kill()
    steps["a killed"] = _moves_to(m, e, addr["a"], "b", lags, "a killed")
    assert steps["a killed"] == {"b": 20}, f"same region r1 (zone z2) comes next: {steps}"

    b.kill()
    steps["a, b killed"] = _moves_to(m, e, addr["b"], "c", lags, "a, b killed")
    assert steps["a, b killed"] == {"c": 20}, f"then the other region: {steps}"

    a.restart()
    _wait_failed(e, addr["a"], failed=False)
    steps["a restarted"] = dict(_all_to(m, "a", e))
    report("answers per step", str(steps))
    report("seconds from the admin's failed_active_hc to the routing change", str(lags))
    assert steps["a restarted"] == {"a": 20}, f"the caller's own zone takes all traffic back: {steps}"
    assert max(lags.values()) < 0.5, f"routing lagged the failed health check by more than 0.5 s: {lags}"
    assert_no_nack(m)


def test_locality_failover_region(mesh, report):
    """failover {from: r1, to: r3}: with the r1 endpoint dead, r3 (not r2) takes the traffic; then r2."""
    m = mesh
    a = m.upstream_process("reviews", "a")
    r2 = m.upstream_process("reviews", "r2")
    r3 = m.upstream_process("reviews", "r3")
    m.apply(docs(
        service_entry("reviews"),
        _we(m, "a", a.port, "r1/z1"), _we(m, "r2", r2.port, "r2/z1"), _we(m, "r3", r3.port, "r3/z1"),
        destination_rule_annotated("reviews", FAST_HC, traffic_policy_yaml="""
            loadBalancer:
              localityLbSetting:
                enabled: true
                failover:
                - from: r1
                  to: r3
            """),
        NO_RETRY_VS))
    e = m.start_envoy(locality="r1/z1")
    for u in (a, r2, r3):
        _wait_failed(e, f"{m.host}:{u.port}", failed=False)
    steps = {"all up": dict(_all_to(m, "a", e))}
    assert steps["all up"] == {"a": 20}, steps
    lags: dict[str, float] = {}
    a.kill()
    _wait_failed(e, f"{m.host}:{a.port}")
    # r2 must never answer while r3 is up: look at every answer until r3 takes over
    seen = Counter()
    wait_until(lambda: seen.update(m.sample("reviews", 5, path="/r1-dead", envoy=e)) or seen["r3"] >= 5, 5, 0.0,
               desc=lambda: f"r3 answering after r1 died; seen {dict(seen)}")
    steps["r1 dead, until r3 answers"] = dict(seen)
    assert "r2" not in seen, f"r2 answered before r3 took over: {steps}"
    steps["r1 dead"] = dict(m.sample("reviews", 20, path="/r1-dead", envoy=e))
    assert steps["r1 dead"] == {"r3": 20}, f"failover to r3 must come before r2: {steps}"
    r3.kill()
    steps["r1, r3 dead"] = _moves_to(m, e, f"{m.host}:{r3.port}", "r2", lags, "r1, r3 dead")
    report("answers per step", str(steps))
    report("seconds from the admin's failed_active_hc to the routing change", str(lags))
    assert steps["r1, r3 dead"] == {"r2": 20}, steps
    assert max(lags.values()) < 0.5, f"routing lagged the failed health check by more than 0.5 s: {lags}"
    assert_no_nack(m)


def test_locality_distribute_weights(mesh, report):
    """distribute from r1/z1/* to {r1/z1/*: 80, r1/z2/*: 20}: an r1/z1 caller splits 80/20 and sends
    nothing to r2 (not listed)."""
    m = mesh
    ups = {n: m.upstream("reviews", n, nodelay=True) for n in ("a", "b", "c")}
    m.apply(docs(
        service_entry("reviews"),
        _we(m, "a", ups["a"].port, "r1/z1/s1"), _we(m, "b", ups["b"].port, "r1/z2/s1"),
        _we(m, "c", ups["c"].port, "r2/z1/s1"),
        destination_rule_annotated("reviews", traffic_policy_yaml="""
            loadBalancer:
              localityLbSetting:
                distribute:
                - from: "r1/z1/*"
                  to:
                    "r1/z1/*": 80
                    "r1/z2/*": 20
            """),
        NO_RETRY_VS))
    e = m.start_envoy(locality="r1/z1/s1")
    wait_until(lambda: set(m.sample("reviews", 20, envoy=e)) == {"a", "b"}, 15, 0.05,
               desc="both r1 localities answering")
    n = 200
    got = m.sample("reviews", n, path="/dist", envoy=e)
    share = got.get("a", 0) / n
    report(f"{n} requests: per endpoint (a r1/z1 80, b r1/z2 20, c r2 unlisted)", str(dict(got)))
    assert sum(got.values()) == n and set(got) <= {"a", "b"}, f"only a and b may answer: {dict(got)}"
    assert 0.70 <= share <= 0.90, f"r1/z1 share {share:.2f} not 0.80 +/- 0.10: {dict(got)}"
    assert_no_nack(m)


def test_locality_applies_only_with_failure_detection_or_setting(mesh, report):
    """Caller in r1/z1, endpoints a r1/z1 and b r2/z1: without a policy that notices failure (nor a
    localityLbSetting), both share the traffic; with outlierDetection, a takes it all; with
    localityLbSetting enabled: false (outlierDetection kept), both share it again."""
    m = mesh
    a, b = m.upstream("reviews", "a", nodelay=True), m.upstream("reviews", "b", nodelay=True)
    m.apply(docs(service_entry("reviews"), _we(m, "a", a.port, "r1/z1"), _we(m, "b", b.port, "r2/z1"), NO_RETRY_VS))
    e = m.start_envoy(locality="r1/z1")
    steps = {}
    wait_until(lambda: set(m.sample("reviews", 20, envoy=e)) == {"a", "b"}, 10, 0.05,
               desc="both localities answering without a DestinationRule")
    steps["no policy"] = dict(m.sample("reviews", 40, path="/none", envoy=e))

    od = """
        outlierDetection:
          consecutive5xxErrors: 5
          interval: 1s
          baseEjectionTime: 30s
        """
    m.apply(destination_rule_annotated("reviews", traffic_policy_yaml=od))
    steps["outlierDetection"] = dict(_all_to(m, "a", e, 40))

    m.apply(destination_rule_annotated("reviews", traffic_policy_yaml=od + """
        loadBalancer:
          localityLbSetting:
            enabled: false
        """))
    wait_until(lambda: set(m.sample("reviews", 20, envoy=e)) == {"a", "b"}, 10, 0.05,
               desc="both localities answering with localityLbSetting.enabled false")
    steps["enabled: false"] = dict(m.sample("reviews", 40, path="/disabled", envoy=e))
    report("answers (40 requests) per policy", str(steps))
    for k in ("no policy", "enabled: false"):
        assert set(steps[k]) == {"a", "b"} and min(steps[k].values()) >= 8, f"{k}: both should share: {steps}"
    assert steps["outlierDetection"] == {"a": 40}, f"with outlierDetection the own zone takes all: {steps}"
    assert_no_nack(m)


# ---------------------------------------------------------------- invalid values refused


_BAD = {
    "workload-entry-locality-empty-segment": (
        lambda: with_locality(workload_entry("reviews-v1", "127.0.0.1", 9999, {"app": "reviews", "version": "v1"}),
                              "a//b"),
        "spec.locality"),
    "distribute-weights-not-100": (
        lambda: destination_rule_with_policy("reviews", """
            loadBalancer:
              localityLbSetting:
                distribute:
                - from: "r1/*"
                  to:
                    "r1/*": 70
                    "r2/*": 20
            """),
        "spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to"),
    "failover-to-itself": (
        lambda: destination_rule_with_policy("reviews", """
            loadBalancer:
              localityLbSetting:
                failover:
                - from: r1
                  to: r1
            """),
        "spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0].to"),
    "negative-max-ejection-percent": (
        lambda: destination_rule_with_policy("reviews", """
            outlierDetection:
              consecutive5xxErrors: 3
              maxEjectionPercent: -10
            """),
        "spec.trafficPolicy.outlierDetection.maxEjectionPercent"),
    "negative-min-health-percent": (
        lambda: destination_rule_with_policy("reviews", """
            outlierDetection:
              consecutive5xxErrors: 3
              minHealthPercent: -1
            """),
        "spec.trafficPolicy.outlierDetection.minHealthPercent"),
    "zero-base-ejection-time": (
        lambda: destination_rule_with_policy("reviews", """
            outlierDetection:
              consecutive5xxErrors: 3
              baseEjectionTime: 0s
            """),
        "spec.trafficPolicy.outlierDetection.baseEjectionTime"),
}


@pytest.mark.parametrize("case", list(_BAD))
def test_invalid_locality_and_outlier_values_refused(mesh, case):
    m = mesh
    m.reviews()
    before = m.resources()
    make, field = _BAD[case]
    cp = m.apply(make(), check=False)
    assert cp.returncode == 1, f"weft apply of {case}: exit {cp.returncode}\n{cp.stdout}\n{cp.stderr}"
    assert field in cp.stderr, f"stderr does not name {field}:\n{cp.stderr}"
    assert m.resources() == before, "a refused apply changed the stored resources"


@pytest.mark.parametrize("sub", ["bootstrap", "proxy"])
def test_invalid_locality_flag_refused(mesh, sub):
    m = mesh
    args = (["bootstrap", "envoy"] if sub == "bootstrap" else ["proxy"]) + [
        "--node", "bad-locality.default", "--namespace", "default", "--control-plane", m.xds_addr,
        "--outbound", f"{m.host}:1", "--admin", f"{m.host}:2", "--locality", "a//b"]
    cp = m.run_weft(*args, timeout=10)
    assert cp.returncode != 0, f"weft {' '.join(args)} accepted --locality a//b:\n{cp.stdout[:500]}"
    assert "--locality" in cp.stderr, f"the error must name --locality:\n{cp.stderr}"


def test_registration_invalid_locality_refused(mesh):
    """The registration API checks `locality` as WorkloadEntry does: 'a//b' is refused, naming the field,
    and nothing is registered."""
    m = mesh
    m.apply(service_entry("reviews"))
    r = m.api("POST", "/api/v1/workloads", {
        "name": "reviews-bad-locality", "namespace": "default", "addresses": [m.host],
        "labels": {"app": "reviews", "version": "x"}, "ports": {"http": 9999}, "ttlSeconds": 60,
        "locality": "a//b"})
    listed = m.api("GET", "/api/v1/workloads").text
    assert 400 <= r.status_code < 500, f"registration with locality 'a//b' answered {r.status_code}: {r.text}"
    assert "locality" in r.text, f"the error must name locality: {r.text}"
    assert "reviews-bad-locality" not in listed, f"the refused workload was registered: {listed}"
