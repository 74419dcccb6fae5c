"""Small helpers shared by the e2e tests: ports, polling, Istio YAML builders."""

from __future__ import annotations

import socket
import textwrap
import time
from typing import Any, Callable, Iterable

import requests

LOCAL4 = "127.0.0.1"
LOCAL6 = "::1"

TYPE_CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
TYPE_LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener"
TYPE_ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
TYPE_ENDPOINT = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"


# ---------------------------------------------------------------- addresses

def free_port(host: str = LOCAL4) -> int:
    """A port that was free a moment ago (bind port 0, read it, close)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def hostport(host: str, port: int) -> str:
    """127.0.0.1:80 or [::1]:80 (the form the weft CLI takes)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def http_base(host: str, port: int) -> str:
    return f"http://{hostport(host, port)}"


def can_connect(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def ipv6_loopback_problem() -> str | None:
    """None if [::1] is usable, else a sentence saying why not."""
    if not socket.has_ipv6:
        return "Python was built without IPv6 support (socket.has_ipv6 is False)"
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind((LOCAL6, 0))
            s.listen(1)
            port = s.getsockname()[1]
            with socket.create_connection((LOCAL6, port), timeout=1):
                pass
    except OSError as e:
        return f"cannot bind/connect on [::1] ({e}); enable IPv6 on the loopback interface"
    return None


# ---------------------------------------------------------------- HTTP

def session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # never send loopback traffic through an http_proxy from the env
    return s


def version_of(resp: requests.Response) -> str:
    """'v1' for a 200 from an upstream, else 'HTTP <code>'."""
    if resp.status_code == 200:
        try:
            return resp.json()["version"]
        except (ValueError, KeyError):
            return "HTTP 200 (not an upstream body)"
    return f"HTTP {resp.status_code}"


# ---------------------------------------------------------------- polling

class WaitTimeout(AssertionError):
    pass


class Fatal(AssertionError):
    """Raised inside a wait_until predicate: stop waiting and fail at once."""


def raise_now(msg: str):
    raise Fatal(msg)


def wait_until(pred: Callable[[], Any], timeout: float = 5.0, interval: float = 0.05,
               desc: str | Callable[[], str] | None = None) -> Any:
    """Call pred() until it returns something truthy; return that value.

    Exceptions raised by pred count as "not yet". On timeout, raise an
    AssertionError naming desc (a string, or a callable evaluated then), the
    last value and the last exception. A Fatal raised by pred ends the wait at once.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    last_exc: BaseException | None = None
    while True:
        try:
            last = pred()
            last_exc = None
            if last:
                return last
        except Fatal:
            raise
        except Exception as e:  # noqa: BLE001 - polling swallows and reports
            last_exc = e
        if time.monotonic() >= deadline:
            what = (desc() if callable(desc) else desc) or getattr(pred, "__name__", "condition")
            msg = f"timed out after {timeout:.1f}s waiting for {what}; last value: {last!r}"
            if last_exc is not None:
                msg += f"; last error: {type(last_exc).__name__}: {last_exc}"
            raise WaitTimeout(msg)
        time.sleep(interval)


# ---------------------------------------------------------------- Istio YAML

API = "networking.istio.io/v1"


def y(text: str) -> str:
    """Dedent a YAML literal written inline in a test."""
    return textwrap.dedent(text).strip("\n") + "\n"


def docs(*parts: str) -> str:
    """Join YAML documents into one multi-document stream."""
    return "---\n".join(p if p.endswith("\n") else p + "\n" for p in parts)


def _yaml_addr(address: str) -> str:
    return f'"{address}"'


def service_entry(name: str, ns: str = "default", port: int = 9080, app: str | None = None) -> str:
    return y(f"""
        apiVersion: {API}
        kind: ServiceEntry
        metadata:
          name: {name}
          namespace: {ns}
        spec:
          hosts:
          - {name}.{ns}.svc.cluster.local
          location: MESH_INTERNAL
          ports:
          - number: {port}
            name: http
            protocol: HTTP
          resolution: STATIC
          workloadSelector:
            labels:
              app: {app or name}
        """)


def workload_entry(name: str, address: str, port: int, labels: dict[str, str],
                   ns: str = "default") -> str:
    label_lines = "\n".join(f"    {k}: {v}" for k, v in labels.items())
    return (
        f"apiVersion: {API}\n"
        f"kind: WorkloadEntry\n"
        f"metadata:\n  name: {name}\n  namespace: {ns}\n"
        f"spec:\n"
        f"  address: {_yaml_addr(address)}\n"
        f"  ports:\n    http: {port}\n"
        f"  labels:\n{label_lines}\n"
    )


def destination_rule(service: str, versions: Iterable[str] = ("v1", "v2"), ns: str = "default") -> str:
    subsets = "".join(
        f"  - name: {v}\n    labels:\n      version: {v}\n" for v in versions)
    return (
        f"apiVersion: {API}\n"
        f"kind: DestinationRule\n"
        f"metadata:\n  name: {service}\n  namespace: {ns}\n"
        f"spec:\n"
        f"  host: {service}.{ns}.svc.cluster.local\n"
        f"  subsets:\n{subsets}"
    )


def service_with_versions(service: str, ports: dict[str, int], address: str = LOCAL4,
                          ns: str = "default") -> str:
    """ServiceEntry + one WorkloadEntry per version + DestinationRule with those subsets."""
    parts = [service_entry(service, ns)]
    for version, port in ports.items():
        parts.append(workload_entry(f"{service}-{version}", address, port,
                                    {"app": service, "version": version}, ns))
    parts.append(destination_rule(service, tuple(ports), ns))
    return docs(*parts)


def virtual_service(http_yaml: str, name: str = "reviews", hosts: Iterable[str] = ("reviews",),
                    ns: str = "default") -> str:
    """A VirtualService whose spec.http is http_yaml (a YAML list, any indentation)."""
    body = textwrap.indent(textwrap.dedent(http_yaml).strip("\n"), "  ")
    host_lines = "".join(f"  - {h}\n" for h in hosts)
    return (
        f"apiVersion: {API}\n"
        f"kind: VirtualService\n"
        f"metadata:\n  name: {name}\n  namespace: {ns}\n"
        f"spec:\n"
        f"  hosts:\n{host_lines}"
        f"  http:\n{body}\n"
    )


def route_all(subset: str, host: str = "reviews", name: str = "reviews") -> str:
    """VirtualService sending all traffic for host to one subset."""
    return virtual_service(f"""
        - route:
          - destination:
              host: {host}
              subset: {subset}
        """, name=name, hosts=(host,))


def route_split(weights: dict[str, int], host: str = "reviews", name: str = "reviews") -> str:
    dests = "".join(
        f"  - destination:\n      host: {host}\n      subset: {s}\n    weight: {w}\n"
        for s, w in weights.items())
    return virtual_service("- route:\n" + dests, name=name, hosts=(host,))
