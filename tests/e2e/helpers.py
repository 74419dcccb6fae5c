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

def rss_mib(pid: int) -> float:
    """A process's resident memory (VmRSS) in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


_handed_out: set[tuple[str, int]] = set()


def free_port(host: str = LOCAL4) -> int:
    """A port that was free a moment ago (bind port 0, read it, close), and not one this process
    handed out before: the kernel may offer a just-closed port again, and two listeners of one test
    (say --xds and --api) would then be told the same port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    while True:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if (host, port) not in _handed_out:
            _handed_out.add((host, port))
            return port


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


def destination_rule_with_policy(service: str, traffic_policy_yaml: str,
                                  versions: Iterable[str] = ("v1", "v2"), ns: str = "default") -> str:
    """destination_rule(service, versions) plus spec.trafficPolicy (a YAML mapping, any indentation)."""
    policy = textwrap.indent(textwrap.dedent(traffic_policy_yaml).strip("\n"), "    ")
    return destination_rule(service, versions, ns) + f"  trafficPolicy:\n{policy}\n"


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


def service_entry_ports(name: str, ports: Iterable[tuple[int, str, str]], ns: str = "default",
                        app: str | None = None) -> str:
    """A MESH_INTERNAL STATIC ServiceEntry with ports given as (number, name, protocol)."""
    port_lines = "".join(f"  - number: {n}\n    name: {pn}\n    protocol: {proto}\n"
                         for n, pn, proto in ports)
    return (
        f"apiVersion: {API}\n"
        f"kind: ServiceEntry\n"
        f"metadata:\n  name: {name}\n  namespace: {ns}\n"
        f"spec:\n"
        f"  hosts:\n  - {name}.{ns}.svc.cluster.local\n"
        f"  location: MESH_INTERNAL\n"
        f"  ports:\n{port_lines}"
        f"  resolution: STATIC\n"
        f"  workloadSelector:\n    labels:\n      app: {app or name}\n"
    )


def workload_entry_ports(name: str, address: str, ports: dict[str, int], labels: dict[str, str],
                         ns: str = "default") -> str:
    """A WorkloadEntry with named ports ({"tcp": 1234, "grpc": 5678})."""
    label_lines = "\n".join(f"    {k}: {v}" for k, v in labels.items())
    port_lines = "\n".join(f"    {k}: {v}" for k, v in ports.items())
    return (
        f"apiVersion: {API}\n"
        f"kind: WorkloadEntry\n"
        f"metadata:\n  name: {name}\n  namespace: {ns}\n"
        f"spec:\n"
        f"  address: {_yaml_addr(address)}\n"
        f"  ports:\n{port_lines}\n"
        f"  labels:\n{label_lines}\n"
    )


# ---------------------------------------------------------------- raw sockets

class RawResponse:
    """One HTTP/1.x response read off a raw socket."""

    def __init__(self, status_line: str, headers: list[tuple[str, str]], body: bytes):
        self.status_line = status_line
        parts = status_line.split(" ", 2)
        self.version = parts[0]
        self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
        self.headers = headers
        self.body = body

    def header(self, name: str, default: str | None = None) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def __repr__(self) -> str:
        return f"<{self.status_line!r} {dict(self.headers)} body={self.body[:200]!r}>"


class RawConn:
    """A blocking socket with a read buffer and an overall deadline, for hand-written HTTP."""

    def __init__(self, host: str, port: int, timeout: float = 5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.timeout = timeout
        self.eof = False

    def __enter__(self) -> "RawConn":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self, deadline: float) -> bool:
        """Read more into buf; False on EOF. Raises socket.timeout past the deadline."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("deadline passed")
        self.sock.settimeout(left)
        data = self.sock.recv(65536)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_exact(self, n: int, timeout: float | None = None) -> bytes:
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise ConnectionError(f"EOF after {len(self.buf)} of {n} bytes")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_until(self, sep: bytes, timeout: float | None = None, limit: int = 1 << 20) -> bytes:
        deadline = time.monotonic() + (timeout or self.timeout)
        while sep not in self.buf:
            if len(self.buf) > limit:
                raise ValueError(f"no {sep!r} in the first {limit} bytes")
            if not self._fill(deadline):
                raise ConnectionError(f"EOF before {sep!r}; got {self.buf[:300]!r}")
        out, _, self.buf = self.buf.partition(sep)
        return out + sep

    def read_to_eof(self, timeout: float | None = None) -> bytes:
        deadline = time.monotonic() + (timeout or self.timeout)
        while self._fill(deadline):
            pass
        out, self.buf = self.buf, b""
        return out

    def closed_by_peer(self, timeout: float = 2.0) -> bool:
        """True if the peer closes (EOF or reset) within timeout and sends nothing more."""
        try:
            return self.read_to_eof(timeout) == b""
        except ConnectionResetError:
            return True
        except (socket.timeout, TimeoutError):
            return False

    def response(self, timeout: float | None = None, head_request: bool = False) -> RawResponse:
        """Read one response (status line, headers, body by Content-Length / chunked / EOF)."""
        t = timeout or self.timeout
        head = self.read_until(b"\r\n\r\n", t).decode("latin-1")
        lines = head.split("\r\n")
        headers = [tuple(x.strip() for x in ln.split(":", 1)) for ln in lines[1:] if ":" in ln]
        r = RawResponse(lines[0], headers, b"")  # type: ignore[arg-type]
        if head_request or r.status in (204, 304) or 100 <= r.status < 200:
            return r
        if "chunked" in (r.header("transfer-encoding") or "").lower():
            body = b""
            while True:
                size = int(self.read_until(b"\r\n", t).split(b";")[0].strip(), 16)
                if size == 0:
                    self.read_until(b"\r\n", t)  # (no trailers expected) final CRLF
                    break
                body += self.read_exact(size, t)
                self.read_exact(2, t)
            r.body = body
        elif r.header("content-length") is not None:
            r.body = self.read_exact(int(r.header("content-length")), t)
        else:
            r.body = self.read_to_eof(t)
        return r


def raw_exchange(host: str, port: int, data: bytes, timeout: float = 5.0) -> RawResponse | str:
    """Send data (from a thread, so a proxy that answers early and closes is seen) and read one
    response. Returns the response, or a string saying how the connection ended without one."""
    import threading
    with RawConn(host, port, timeout) as c:
        send_error: list[BaseException] = []

        def send():
            try:
                c.sock.sendall(data)
            except OSError as e:
                send_error.append(e)

        t = threading.Thread(target=send, daemon=True)
        t.start()
        try:
            r = c.response(timeout)
        except (ConnectionError, OSError) as e:
            r = f"no response: {type(e).__name__}: {e}; send error: {send_error}"
        t.join(timeout)
        return r


# ---------------------------------------------------------------- proxy stats

def downstream_cx_active(e) -> int:
    """Open downstream connections on e's outbound HTTP listener (Envoy stats or weft's prometheus)."""
    if e.dataplane == "weft":
        r = e.admin("/stats/prometheus")
        r.raise_for_status()
        for line in r.text.splitlines():
            if line.startswith("weft_http_downstream_cx_active"):
                return int(float(line.split()[-1]))
        raise AssertionError(f"no weft_http_downstream_cx_active in /stats/prometheus:\n{r.text[:2000]}")
    r = e.admin("/stats?format=json&filter=^http\\.outbound_http\\.downstream_cx_active$")
    r.raise_for_status()
    for st in r.json().get("stats", []):
        if st.get("name") == "http.outbound_http.downstream_cx_active":
            return int(st["value"])
    raise AssertionError(f"no http.outbound_http.downstream_cx_active in /stats: {r.text[:2000]}")


# ---------------------------------------------------------------- active health checks, locality

def health_annotations(kind: str = "http", interval: str = "500ms", timeout: str = "250ms",
                       unhealthy: int = 2, healthy: int = 1, **extra: str) -> dict[str, str]:
    """health.weft.dev/ annotations for a DestinationRule; extra: path=..., grpc_service=..."""
    a = {"type": kind, "interval": interval, "timeout": timeout,
         "unhealthy-threshold": str(unhealthy), "healthy-threshold": str(healthy)}
    for k, v in extra.items():
        a[k.replace("_", "-")] = v
    return {f"health.weft.dev/{k}": v for k, v in a.items()}


def destination_rule_annotated(service: str, annotations: dict[str, str] | None = None,
                               traffic_policy_yaml: str | None = None, versions: Iterable[str] = (),
                               ns: str = "default", name: str | None = None) -> str:
    """A DestinationRule for service (FQDN host) with metadata.annotations, optional subsets (version
    labels) and an optional spec.trafficPolicy (a YAML mapping, any indentation)."""
    ann = "".join(f'    "{k}": "{v}"\n' for k, v in (annotations or {}).items())
    out = (f"apiVersion: {API}\n"
           f"kind: DestinationRule\n"
           f"metadata:\n  name: {name or service}\n  namespace: {ns}\n"
           + (f"  annotations:\n{ann}" if ann else "")
           + f"spec:\n  host: {service}.{ns}.svc.cluster.local\n")
    subsets = "".join(f"  - name: {v}\n    labels:\n      version: {v}\n" for v in versions)
    if subsets:
        out += f"  subsets:\n{subsets}"
    if traffic_policy_yaml:
        out += "  trafficPolicy:\n" + textwrap.indent(textwrap.dedent(traffic_policy_yaml).strip("\n"), "    ") + "\n"
    return out


def with_locality(workload_entry_yaml: str, locality: str) -> str:
    """A WorkloadEntry (from workload_entry / workload_entry_ports) with spec.locality set."""
    return workload_entry_yaml + f'  locality: "{locality}"\n'


def host_health_flags(e, cluster: str, address: str) -> str | None:
    """The health_flags value of address (host:port) in cluster on e's admin /clusters
    ('healthy', '/failed_active_hc', ...), or None if the host is not listed."""
    r = e.admin("/clusters")
    r.raise_for_status()
    prefix = f"{cluster}::{address}::health_flags::"
    for line in r.text.splitlines():
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    return None


def cluster_lines(e, cluster: str, field: str = "health_flags") -> list[str]:
    """Lines of e's admin /clusters for cluster's hosts with the given field (for failure messages)."""
    try:
        text = e.admin("/clusters").text
    except requests.RequestException as ex:
        return [f"<admin /clusters: {ex}>"]
    return [ln for ln in text.splitlines() if ln.startswith(cluster + "::") and f"::{field}::" in ln]


def assert_no_nack(mesh) -> None:
    """No proxy connected to mesh's control plane reports a NACK (weft status)."""
    nacks = {p.get("id"): p.get("nack") for p in mesh.status().get("proxies", []) if p.get("nack")}
    assert not nacks, f"proxies NACKed the pushed config: {nacks}"


REVIEWS = "reviews.default.svc.cluster.local"
CLUSTER = f"outbound|9080||{REVIEWS}"
FAILED = "failed_active_hc"

# All traffic to the host's endpoints, no retries: a request sent to a dead endpoint would show as an error.
NO_RETRY_VS = virtual_service("""
    - route:
      - destination:
          host: reviews
      retries:
        attempts: 0
    """)


# ---------------------------------------------------------------- API tokens

def api_token(api_addr: str) -> str:
    """The token `weft control` recorded for api_addr (host:port) in the CLI config ($WEFT_CONFIG), or ""."""
    import json
    import os
    try:
        with open(os.environ.get("WEFT_CONFIG", ""), encoding="utf-8") as f:
            return json.load(f).get("servers", {}).get(api_addr, {}).get("token", "")
    except (OSError, ValueError):
        return ""


def api_headers(api_addr: str) -> dict[str, str]:
    """Authorization for the control plane at api_addr, as the CLI sends it."""
    t = api_token(api_addr)
    return {"Authorization": f"Bearer {t}"} if t else {}


class XDSCredentials:
    """What a gRPC client needs for weft control's xDS port: the mesh root to check the server by, a client
    certificate for the handshake (throwaway self-signed unless a mesh certificate is given; the port asks every
    client for one), and a bearer token (a join token or the admin token) unless the certificate is a mesh one."""

    # The control plane's certificate names this DNS SAN (root namespace istio-system); gRPC checks a host name.
    SERVER_NAME = "weft-control.istio-system.svc"

    def __init__(self, root_pem: bytes, cert_pem: bytes, key_pem: bytes, token: str | None):
        self.root_pem, self.cert_pem, self.key_pem, self.token = root_pem, cert_pem, key_pem, token

    @staticmethod
    def throwaway(workdir) -> tuple[bytes, bytes]:
        """A self-signed P-256 certificate and key (openssl), made once per folder."""
        import subprocess
        from pathlib import Path
        d = Path(workdir)
        cert, key = d / "throwaway-cert.pem", d / "throwaway-key.pem"
        if not cert.exists():
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=test-client"],
                           check=True, capture_output=True)
        return cert.read_bytes(), key.read_bytes()

    def channel_credentials(self):
        import grpc
        return grpc.ssl_channel_credentials(root_certificates=self.root_pem, private_key=self.key_pem,
                                            certificate_chain=self.cert_pem)

    def channel_options(self) -> list[tuple[str, object]]:
        return [("grpc.ssl_target_name_override", self.SERVER_NAME)]

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),) if self.token else ()
