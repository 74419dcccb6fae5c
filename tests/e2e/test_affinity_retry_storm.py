"""Session affinity stability and retry storms, on both data planes: consistentHash on a header keeps
keys where they are when endpoints come and go (only keys of the changed endpoint move); the default
retry budget keeps an always-failing upstream from being hit with every retry of every client."""

from __future__ import annotations

import threading

from helpers import (
    assert_no_nack, destination_rule_annotated, docs, service_entry, session, virtual_service, wait_until, workload_entry,
)

KEYS = [f"user-{i}" for i in range(60)]

NO_RETRY_VS = virtual_service("""
    - route:
      - destination:
          host: reviews
      retries:
        attempts: 0
    """)

AFFINITY_DR = destination_rule_annotated("reviews", traffic_policy_yaml="""
    loadBalancer:
      consistentHash:
        httpHeaderName: x-user
    """)


def _we(m, name: str, port: int) -> str:
    return workload_entry(f"reviews-{name}", m.host, port, {"app": "reviews", "version": name})


def _mapping(m) -> dict[str, str]:
    """key -> the endpoint (version) that answered a request with x-user: key."""
    out = {}
    with session() as s:
        for k in KEYS:
            r = m.request("reviews", f"/aff/{k}", headers={"x-user": k}, sess=s, timeout=3)
            out[k] = r.json()["version"] if r.status_code == 200 else f"HTTP {r.status_code}"
    return out


def _stable_mapping(m, ok, desc: str, timeout: float = 15.0) -> dict[str, str]:
    """Two identical mappings in a row for which ok(mapping) holds."""
    last: list[dict[str, str]] = [{}]

    def check():
        a = _mapping(m)
        prev, last[0] = last[0], a
        return a if ok(a) and a == prev else None

    return wait_until(check, timeout, 0.05, desc=lambda: f"{desc}; last mapping counts: "
                      f"{sorted((v, list(last[0].values()).count(v)) for v in set(last[0].values()))}")


def test_consistent_hash_keys_move_only_to_added_or_from_removed(mesh, report):
    """60 keys over 3 endpoints; a 4th added: keys that moved moved only to it, well under half of them;
    an endpoint removed: only its keys move. Everything is measured first, then asserted."""
    m = mesh
    ups = {n: m.upstream("reviews", n, nodelay=True) for n in ("e1", "e2", "e3", "e4")}
    m.apply(docs(service_entry("reviews"), *(_we(m, n, ups[n].port) for n in ("e1", "e2", "e3")),
                 AFFINITY_DR, NO_RETRY_VS))
    m.start_envoy()
    three = _stable_mapping(m, lambda a: set(a.values()) == {"e1", "e2", "e3"},
                            "60 keys spread over e1, e2, e3")
    spread3 = {n: list(three.values()).count(n) for n in ("e1", "e2", "e3")}

    m.apply(_we(m, "e4", ups["e4"].port))
    four = _stable_mapping(m, lambda a: "e4" in a.values() and all(v.startswith("e") for v in a.values()),
                           "some keys on the added e4")
    moved = [k for k in KEYS if four[k] != three[k]]
    wrong_add = {k: (three[k], four[k]) for k in moved if four[k] != "e4"}
    frac = len(moved) / len(KEYS)
    report("keys per endpoint with 3 endpoints", str(spread3))
    report("e4 added: keys moved (count, fraction; of them between old endpoints)",
           f"{len(moved)}, {frac:.2f}; {len(wrong_add)}")

    cp = m.delete("WorkloadEntry", "reviews-e1")
    assert cp.returncode == 0, f"weft delete: {cp.returncode} {cp.stderr}"
    after = _stable_mapping(m, lambda a: "e1" not in a.values() and all(v.startswith("e") for v in a.values()),
                            "no key on the removed e1")
    moved_off = [k for k in KEYS if after[k] != four[k]]
    on_e1 = [k for k in KEYS if four[k] == "e1"]
    wrong_remove = {k: (four[k], after[k]) for k in moved_off if four[k] != "e1"}
    report("e1 removed: keys moved (count; keys that were on e1; of the moved, keys not from e1)",
           f"{len(moved_off)}; {len(on_e1)}; {len(wrong_remove)}")

    assert_no_nack(m)
    assert not wrong_add, f"keys moved between old endpoints when e4 was added (key: (before, after)): {wrong_add}"
    assert 0 < frac < 0.5, f"moved fraction {frac:.2f} should be about 1/4, well under half"
    assert not wrong_remove, f"keys not on e1 moved when e1 was removed (key: (before, after)): {wrong_remove}"
    assert sorted(moved_off) == sorted(on_e1), "every key of e1 must have moved"


# ---------------------------------------------------------------- retry storm


STORM_VS = virtual_service("""
    - route:
      - destination:
          host: reviews
      retries:
        attempts: 5
        perTryTimeout: 2s
        retryOn: 5xx
    """)

THREADS, PER_THREAD = 20, 10


def _storm(m, tag: str) -> tuple[float, dict[int, int]]:
    """THREADS clients x PER_THREAD requests against an always-503 upstream; (amplification, statuses)."""
    up = m.ups_storm
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    gate = threading.Barrier(THREADS)

    def client(t: int):
        with session() as s:
            gate.wait(10)
            for i in range(PER_THREAD):
                try:
                    code = m.request("reviews", f"/{tag}/{t}/{i}", sess=s, timeout=15).status_code
                except Exception:  # noqa: BLE001 - counted as -1
                    code = -1
                with lock:
                    statuses[code] = statuses.get(code, 0) + 1

    threads = [threading.Thread(target=client, args=(t,), daemon=True) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not any(th.is_alive() for th in threads), "storm clients did not finish"
    hits = sum(1 for q in up.requests if q["path"].startswith(f"/{tag}/"))
    return hits / (THREADS * PER_THREAD), statuses


def _storm_mesh(make_mesh, budget_yaml: str | None):
    m = make_mesh()
    up = m.upstream("reviews", "v1")
    up.fail_status = 503
    m.ups_storm = up
    parts = [service_entry("reviews"), _we(m, "v1", up.port), STORM_VS]
    if budget_yaml:
        parts.append(destination_rule_annotated("reviews", traffic_policy_yaml=budget_yaml))
    m.apply(docs(*parts))
    m.start_envoy()
    wait_until(lambda: (r := m.request("reviews", "/warm", timeout=5)).status_code == 503
               and r.json().get("version") == "v1", 10, 0.05, desc="the upstream's own 503 through the proxy")
    return m


def test_retry_storm_bounded_by_default_retry_budget(make_mesh, report):
    budgeted = _storm_mesh(make_mesh, None)
    amp_default, st_default = _storm(budgeted, "storm-default")
    report(f"amplification with the default retry budget ({THREADS} clients x {PER_THREAD}, attempts 5)",
           f"{amp_default:.2f} (client statuses {st_default})")

    open_budget = _storm_mesh(make_mesh, """
        retryBudget:
          percent:
            value: 100
          minRetryConcurrency: 100
        """)
    amp_open, st_open = _storm(open_budget, "storm-open")
    report("amplification with retryBudget 100% / minRetryConcurrency 100",
           f"{amp_open:.2f} (client statuses {st_open})")

    assert_no_nack(budgeted)
    assert_no_nack(open_budget)
    assert st_default == {503: THREADS * PER_THREAD}, f"every client request ends in 503: {st_default}"
    assert st_open == {503: THREADS * PER_THREAD}, f"every client request ends in 503: {st_open}"
    assert amp_default >= 1.0, f"every client request reaches the upstream at least once: {amp_default:.2f}"
    assert amp_default < 2.5, f"the default retry budget must keep amplification far below 6x: {amp_default:.2f}"
    assert amp_open > amp_default + 1.0, (
        f"a 100% budget must allow clearly more retries: {amp_open:.2f} vs {amp_default:.2f}")
    assert amp_open <= 6.0, f"attempts 5 can never send more than 6 tries per request: {amp_open:.2f}"
