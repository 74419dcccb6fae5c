"""Simulated ADS clients for scale checks: each opens a state-of-the-world ADS stream to weft control over
real gRPC (grpc.aio), subscribes as Envoy does (CDS and LDS whole, then EDS for the clusters and RDS for the
route configurations the listeners name), and ACKs every response. Protobuf is written and read by hand at the
wire level (only the few fields a client needs), so no generated Python code is needed.

Used by tests/e2e/test_xds_scale.py (small) and bench/xds-scale.py (1,000 services, 500 clients)."""

from __future__ import annotations

import asyncio
import os

import grpc

from helpers import rss_mib
from pbwire import field as _field, fields

METHOD = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"
T = "type.googleapis.com/envoy.config."
CDS, EDS = T + "cluster.v3.Cluster", T + "endpoint.v3.ClusterLoadAssignment"
LDS, RDS = T + "listener.v3.Listener", T + "route.v3.RouteConfiguration"


# ------------------------------------------------------------------ messages

def _get(buf: bytes, *path: int) -> list[bytes]:
    """Every value at a path of field numbers (repeated fields fan out)."""
    level = [buf]
    for num in path:
        level = [v for b in level for n, v in fields(b) if n == num and isinstance(v, bytes)]
    return level


def node(node_id: str, labels: dict[str, str], outbound: str, namespace: str = "default") -> bytes:
    def value(s: str) -> bytes:
        return _field(3, s)  # google.protobuf.Value.string_value

    def struct(m: dict[str, bytes]) -> bytes:  # google.protobuf.Struct: map<string, Value> fields = 1
        return b"".join(_field(1, _field(1, k) + _field(2, v)) for k, v in m.items())

    meta = struct({"NAMESPACE": value(namespace), "WEFT_OUTBOUND": value(outbound),
                   "LABELS": _field(5, struct({k: value(v) for k, v in labels.items()}))})
    return _field(1, node_id) + _field(3, meta)


def request(type_url: str, node_bytes: bytes = b"", names: list[str] = (), version: str = "", nonce: str = "") -> bytes:
    out = b""
    if version:
        out += _field(1, version)
    if node_bytes:
        out += _field(2, node_bytes)
    out += b"".join(_field(3, n) for n in names)
    out += _field(4, type_url)
    if nonce:
        out += _field(5, nonce)
    return out


# ------------------------------------------------------------------ one client

class Client:
    """One simulated proxy: subscribes, ACKs everything, remembers the versions it ACKed."""

    def __init__(self, node_id: str, labels: dict[str, str], outbound: str):
        self.node_id = node_id
        self.node = node(node_id, labels, outbound)
        self.acked: dict[str, str] = {}
        self.names: dict[str, list[str]] = {EDS: [], RDS: []}
        self.responses = 0
        self.bytes = 0
        self.error: str | None = None

    async def run(self, channel: grpc.aio.Channel, stop: asyncio.Event, metadata=()) -> None:
        out: asyncio.Queue[bytes | None] = asyncio.Queue()

        async def requests():
            while (r := await out.get()) is not None:
                yield r

        call = channel.stream_stream(METHOD, request_serializer=lambda b: b,
                                     response_deserializer=lambda b: b)(requests(), metadata=metadata)
        await out.put(request(CDS, self.node))
        await out.put(request(LDS, self.node))
        stopper = asyncio.create_task(stop.wait())
        try:
            it = call.__aiter__()
            while True:
                nxt = asyncio.create_task(it.__anext__())
                done, _ = await asyncio.wait({nxt, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if nxt not in done:
                    nxt.cancel()
                    break
                try:
                    resp = nxt.result()
                except StopAsyncIteration:
                    break
                await self._answer(resp, out)
        except grpc.aio.AioRpcError as e:
            if not stop.is_set():
                self.error = f"{e.code()}: {e.details()}"
        finally:
            stopper.cancel()
            await out.put(None)
            call.cancel()

    async def _answer(self, resp: bytes, out: asyncio.Queue) -> None:
        self.responses += 1
        self.bytes += len(resp)
        f = fields(resp)
        version = next((v.decode() for n, v in f if n == 1), "")
        type_url = next((v.decode() for n, v in f if n == 4), "")
        nonce = next((v.decode() for n, v in f if n == 5), "")
        values = [v for n, v in f if n == 2]  # Any
        payloads = [next((x for k, x in fields(a) if k == 2), b"") for a in values]
        await out.put(request(type_url, names=self.names.get(type_url, []), version=version, nonce=nonce))
        self.acked[type_url] = version
        follow = None
        if type_url == CDS:
            follow = (EDS, sorted(_get(p, 1)[0].decode() for p in payloads if _get(p, 1)))
        elif type_url == LDS:
            rds = {r.decode() for p in payloads for r in _get(p, 3, 3, 4, 2, 3, 2)}
            follow = (RDS, sorted(rds))
        if follow and follow[1] != self.names[follow[0]]:
            t, names = follow
            first = not self.names[t] and t not in self.acked
            self.names[t] = names
            await out.put(request(t, names=names, version="" if first else self.acked.get(t, "")))


async def run_clients(xds: str, clients: list[Client], stop: asyncio.Event, per_channel: int = 50,
                      credentials=None) -> None:
    """Runs every client until stop is set, per_channel streams on each gRPC connection; over TLS with a
    token when `credentials` (helpers.XDSCredentials) is given, as against a control plane not run --insecure."""
    # No 4 MiB receive limit (grpcio's default): like Envoy, a client takes whatever the mesh's config weighs;
    # a connection of its own per channel (grpcio shares one per target otherwise).
    options = [("grpc.max_receive_message_length", 1 << 30), ("grpc.use_local_subchannel_pool", 1)]

    def channel():
        if credentials is None:
            return grpc.aio.insecure_channel(xds, options=options)
        return grpc.aio.secure_channel(xds, credentials.channel_credentials(), options=options + credentials.channel_options())
    channels = [channel() for _ in range((len(clients) + per_channel - 1) // per_channel)]
    metadata = credentials.metadata() if credentials else ()
    try:
        await asyncio.gather(*(c.run(channels[i // per_channel], stop, metadata) for i, c in enumerate(clients)))
    finally:
        for ch in channels:
            await ch.close()


def service_entries(n: int, address: str = "127.0.0.1", base_port: int = 20000) -> str:
    """n ServiceEntries (svc-0 ... svc-(n-1)), each with one static endpoint."""
    return "".join(f"""---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: svc-{i}, namespace: default}}
spec:
  hosts: [svc-{i}.default.svc.cluster.local]
  ports: [{{number: 9080, name: http, protocol: HTTP}}]
  resolution: STATIC
  endpoints: [{{address: {address}, ports: {{http: {base_port + i % 1000}}}}}]
""" for i in range(n))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used."""
    fields_ = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields_[11]) + int(fields_[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    return int(rss_mib(pid) * 1024)


# ------------------------------------------------------------------ the scale check

async def _status(api_url: str) -> dict:
    import requests  # only the scale check needs it

    def get():
        with requests.Session() as s:
            from helpers import api_headers
            return s.get(api_url + "/api/v1/status", timeout=30, headers=api_headers(api_url.removeprefix("http://"))).json()
    return await asyncio.to_thread(get)


async def _wait_converged(api_url: str, clients: list[Client], timeout: float, loop_time) -> int:
    """Until every client's proxy is in sync with the control plane's version (status API) and has ACKed all
    four types; returns that version."""
    ids = {c.node_id for c in clients}
    deadline = loop_time() + timeout
    while True:
        st = await _status(api_url)
        version = st["version"]
        synced = {p["id"] for p in st["proxies"] if p.get("connected") and p.get("syncedVersion") == version
                  and p.get("acked") == p.get("sent")}
        if ids <= synced and all(len(c.acked) == 4 for c in clients):
            return version
        bad = [c.error for c in clients if c.error]
        if bad:
            raise AssertionError(f"{len(bad)} clients failed: {bad[:3]}")
        if loop_time() > deadline:
            raise AssertionError(f"after {timeout}s only {len(ids & synced)} of {len(ids)} clients in sync "
                                 f"with version {version}")
        await asyncio.sleep(0.05)


def scale_check(api_url: str, xds: str, cp_pid: int, apply, n_clients: int, n_scopes: int,
                change: str, timeout: float = 120.0, credentials=None) -> dict:
    """Connects n_clients simulated proxies in n_scopes distinct views, waits until all are in sync, applies
    `change` (with `apply(text)`), and waits until all are in sync again. Returns the figures: seconds to the
    first sync and to the change's sync, translations for each, the control plane's RSS (KiB) before, with the
    clients and after the change, and the bytes the clients received."""
    async def run() -> dict:
        loop = asyncio.get_running_loop()
        clients = [Client(f"sim-{i}", {"app": f"scope-{i % n_scopes}"}, "127.0.0.1:15001") for i in range(n_clients)]
        stop = asyncio.Event()
        # The config in place is published to the xDS streams before any client connects, so the first sync is
        # of one version.
        deadline = loop.time() + timeout
        while (st := await _status(api_url))["xds"]["published"] != st["version"]:
            assert loop.time() < deadline, f"config version {st['version']} not published: {st['xds']}"
            await asyncio.sleep(0.02)
        rss_before = rss_kib(cp_pid)
        cpu0 = cpu_seconds(cp_pid)
        tr_before = st["xds"]["translations"]
        t0 = loop.time()
        task = asyncio.create_task(run_clients(xds, clients, stop, credentials=credentials))
        try:
            v1 = await _wait_converged(api_url, clients, timeout, loop.time)
            first = loop.time() - t0
            tr_first = (await _status(api_url))["xds"]["translations"] - tr_before
            rss_connected = rss_kib(cp_pid)
            cpu1 = cpu_seconds(cp_pid)
            bytes_first = sum(c.bytes for c in clients)
            t1 = loop.time()
            await asyncio.to_thread(apply, change)
            v2 = v1
            while v2 == v1:
                v2 = await _wait_converged(api_url, clients, timeout, loop.time)
            took = loop.time() - t1
            tr_change = (await _status(api_url))["xds"]["translations"] - tr_before - tr_first
            cpu2 = cpu_seconds(cp_pid)
        finally:
            stop.set()
            await task
        return {"clients": n_clients, "scopes": n_scopes, "first_sync_s": first, "change_sync_s": took,
                "translations_first": tr_first, "translations_change": tr_change,
                "rss_before_kib": rss_before, "rss_connected_kib": rss_connected, "rss_after_kib": rss_kib(cp_pid),
                "bytes_first": bytes_first, "bytes_change": sum(c.bytes for c in clients) - bytes_first,
                "cpu_first_s": cpu1 - cpu0, "cpu_change_s": cpu2 - cpu1,
                "errors": [c.error for c in clients if c.error]}
    return asyncio.run(run())
