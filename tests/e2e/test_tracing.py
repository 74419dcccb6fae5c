"""Distributed tracing on both data planes, exported with OTLP to a real receiver (grpcio with the
`opentelemetry-proto` package): a chain front -> reviews -> ratings through sidecars gives one trace per
request, a span per hop (client span in the caller's sidecar, server span in the callee's) linked parent to
child; an incoming `traceparent` is continued, not replaced; Telemetry's sampling of 0% and 100% both hold,
and an upstream decision to sample is honoured at 0%. OTLP over HTTP/protobuf works as over gRPC.
"""

from __future__ import annotations

import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from helpers import docs, free_port, hostport, wait_until
from otlp_receiver import OtlpReceiver

NS = "default"
TRACE_HEADERS = ["traceparent", "tracestate", "x-request-id", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid",
                 "x-b3-sampled", "x-b3-flags", "b3"]


def _service(name: str, inbound_port: int, host: str) -> str:
    return docs(
        f"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: {name}\n  namespace: {NS}\n"
        f"spec:\n  hosts: [{name}.{NS}.svc.cluster.local]\n  location: MESH_INTERNAL\n  resolution: STATIC\n"
        f"  ports:\n  - number: 9080\n    name: http\n    protocol: HTTP\n"
        f"  workloadSelector:\n    labels:\n      app: {name}\n",
        f"apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: {name}-v1\n  namespace: {NS}\n"
        f"spec:\n  address: \"{host}\"\n  ports:\n    http: {inbound_port}\n  serviceAccount: {name}\n"
        f"  labels:\n    app: {name}\n    version: v1\n")


def _sampling(percent: float) -> str:
    return (f"apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata:\n  name: mesh-default\n  namespace: istio-system\n"
            f"spec:\n  tracing:\n  - randomSamplingPercentage: {percent}\n")


class Relay:
    """The reviews app: answers a request by calling ratings through its own sidecar, passing the trace headers on
    (as Istio's sample apps do)."""

    def __init__(self, host: str, outbound: str):
        relay = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                fwd = {k: v for k in TRACE_HEADERS if (v := self.headers.get(k)) is not None}
                fwd["Host"] = "ratings:9080"
                r = requests.get(f"http://{relay.outbound}/ratings", headers=fwd, timeout=5)
                body = f"reviews <- {r.status_code}".encode()
                self.send_response(r.status_code)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.outbound = outbound
        self.server = ThreadingHTTPServer((host, 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _mesh(make_mesh, tmp_path, receiver: OtlpReceiver, http: bool):
    cfg = tmp_path / "meshconfig.yaml"
    exporter = f"    http:\n      path: /v1/traces\n    port: {receiver.http_port}\n" if http else f"    port: {receiver.grpc_port}\n"
    cfg.write_text(f"extensionProviders:\n- name: otel\n  opentelemetry:\n    service: {receiver.host}\n{exporter}"
                   f"- name: log\n  envoyFileAccessLog:\n    path: {tmp_path / 'access.log'}\n"
                   f"defaultProviders:\n  tracing: [otel]\n")
    return make_mesh(control_args=["--mesh-config", str(cfg)])


def _by_trace(spans: list[dict], trace_id: str) -> list[dict]:
    return [s for s in spans if s["trace_id"] == trace_id]


def _chain(spans: list[dict]) -> list[dict]:
    """The spans ordered from the root down, each the parent of the next; fails if they do not form one chain."""
    by_parent = {s["parent_span_id"]: s for s in spans}
    ids = {s["span_id"] for s in spans}
    roots = [s for s in spans if s["parent_span_id"] not in ids]
    assert len(roots) == 1, f"expected one root span, got {roots}"
    out = [roots[0]]
    while out[-1]["span_id"] in by_parent:
        out.append(by_parent[out[-1]["span_id"]])
    assert len(out) == len(spans), f"spans do not form one parent/child chain: {spans}"
    return out


def test_tracing_chain_continues_and_samples(make_mesh, dataplane, tmp_path):
    receiver = OtlpReceiver().start()
    try:
        m = _mesh(make_mesh, tmp_path, receiver, http=False)
        h = m.host
        ratings = m.upstream("ratings", "v1")
        ports = {"reviews": free_port(h), "ratings": free_port(h)}
        reviews_out = free_port(h)
        relay = Relay(h, hostport(h, reviews_out))
        labels = lambda app: {"app": app, "version": "v1"}  # noqa: E731
        m.apply(docs(_service("reviews", ports["reviews"], h), _service("ratings", ports["ratings"], h), _sampling(100)))
        m.start_envoy(node=f"ratings-{dataplane}", labels=labels("ratings"), service_account="ratings",
                      inbound=f"{hostport(h, ports['ratings'])}={hostport(h, ratings.port)}")
        m.start_envoy(node=f"reviews-{dataplane}", labels=labels("reviews"), service_account="reviews", outbound_port=reviews_out,
                      inbound=f"{hostport(h, ports['reviews'])}={hostport(h, relay.port)}")
        front = m.start_envoy(node=f"front-{dataplane}", labels=labels("front"), service_account="front")
        m.wait_synced()
        wait_until(lambda: front.request("reviews:9080", "/").status_code == 200, 15, 0.2, desc="front -> reviews -> ratings")

        # 100%: a request without trace headers starts a trace with four spans in one chain.
        rid = uuid.uuid4().hex
        assert front.request("reviews:9080", "/", headers={"x-request-id": rid}).status_code == 200

        def traced():
            mine = [s for s in receiver.spans() if s["attributes"].get("guid:x-request-id") == rid]
            return mine and len(_by_trace(receiver.spans(), mine[0]["trace_id"])) >= 4 and mine

        mine = wait_until(traced, 20, 0.3, desc="four spans of one trace at the OTLP receiver")
        chain = _chain(_by_trace(receiver.spans(), mine[0]["trace_id"]))
        assert [s["kind"] for s in chain] == ["client", "server", "client", "server"], chain
        assert chain[0]["parent_span_id"] == "", "a new trace's first span has no parent"
        assert [s["service"].split(".")[0] for s in chain] == ["front", "reviews", "reviews", "ratings"], chain
        assert chain[0]["attributes"].get("http.status_code") == "200"

        # An incoming traceparent is continued: same trace id, the caller's span as parent.
        trace_id, parent = uuid.uuid4().hex, uuid.uuid4().hex[:16]
        assert front.request("reviews:9080", "/", headers={"traceparent": f"00-{trace_id}-{parent}-01"}).status_code == 200
        got = wait_until(lambda: len(_by_trace(receiver.spans(), trace_id)) >= 4 and _by_trace(receiver.spans(), trace_id), 20, 0.3,
                         desc="the continued trace")
        chain = _chain(got)
        assert chain[0]["parent_span_id"] == parent and len(chain) == 4
        assert ratings.requests[-1]["headers"].get("traceparent", "").split("-")[1] == trace_id

        # 0%: no new traces; an upstream decision to sample still holds.
        m.apply(_sampling(0))
        m.wait_synced()  # every sidecar took the new sampling
        unsampled = [uuid.uuid4().hex for _ in range(20)]
        for u in unsampled:
            assert front.request("reviews:9080", "/", headers={"x-request-id": u}).status_code == 200
        forced = uuid.uuid4().hex
        assert front.request("reviews:9080", "/", headers={"traceparent": f"00-{forced}-{parent}-01"}).status_code == 200
        # Once all four hops' spans of this later request arrived, every sidecar has exported past the unsampled ones.
        wait_until(lambda: len(_by_trace(receiver.spans(), forced)) >= 4, 20, 0.3, desc="the caller-sampled trace at 0%")
        leaked = [s for s in receiver.spans() if s["attributes"].get("guid:x-request-id") in unsampled]
        assert not leaked, f"{len(leaked)} spans exported at 0% sampling"
        relay.stop()
    finally:
        receiver.stop()


def test_tracing_over_otlp_http(make_mesh, dataplane, tmp_path):
    receiver = OtlpReceiver().start()
    try:
        m = _mesh(make_mesh, tmp_path, receiver, http=True)
        ups = m.reviews(("v1",))
        m.apply(docs(_sampling(100) + "  accessLogging:\n  - providers:\n    - name: log\n"))
        e = m.start_envoy()
        m.wait_routing("reviews.default.svc.cluster.local", "v1")
        tid = uuid.uuid4().hex
        r = e.request("reviews.default.svc.cluster.local", "/", headers={"traceparent": f"00-{tid}-{'ab' * 8}-01"})
        assert r.status_code == 200
        spans = wait_until(lambda: _by_trace(receiver.spans(), tid), 20, 0.3, desc=lambda: f"a span over OTLP/HTTP (posts: {receiver.posts})")
        assert spans[0]["via"] == "http" and spans[0]["kind"] == "client" and spans[0]["parent_span_id"] == "ab" * 8
        assert ups["v1"].requests[-1]["headers"].get("traceparent", "").split("-")[1] == tid
        # The access log line of the request ends with its trace id.
        log = tmp_path / "access.log"
        wait_until(lambda: log.exists() and tid in log.read_text(), 10, 0.2, desc="the traced request's access log line")
        line = next(x for x in log.read_text().splitlines() if tid in x)
        assert line.split()[-1] == tid, line
    finally:
        receiver.stop()


def test_b3_headers_are_propagated(make_mesh, dataplane, tmp_path):
    """B3 (Zipkin's headers) reach the upstream on both planes. weft proxy continues a B3 trace (the same trace id,
    its own span id, and a span at the receiver); Envoy's OpenTelemetry tracer reads W3C only, so it passes the B3
    headers on unchanged and starts a W3C trace of its own (docs/observability.md)."""
    receiver = OtlpReceiver().start()
    try:
        m = _mesh(make_mesh, tmp_path, receiver, http=False)
        ups = m.reviews(("v1",))
        m.apply(_sampling(100))
        e = m.start_envoy()
        m.wait_routing("reviews.default.svc.cluster.local", "v1")
        trace, span = uuid.uuid4().hex, uuid.uuid4().hex[:16]
        b3 = {"x-b3-traceid": trace, "x-b3-spanid": span, "x-b3-sampled": "1"}
        assert e.request("reviews.default.svc.cluster.local", "/", headers=b3).status_code == 200
        got = ups["v1"].requests[-1]["headers"]
        assert got.get("x-b3-traceid") == trace and got.get("x-b3-sampled") == "1"
        assert "traceparent" in got
        if dataplane == "weft":
            assert got["x-b3-spanid"] != span and got["x-b3-parentspanid"] == span
            assert got["traceparent"].split("-")[1] == trace
            spans = wait_until(lambda: _by_trace(receiver.spans(), trace), 20, 0.3, desc="the continued B3 trace")
            assert spans[0]["parent_span_id"] == span
        else:
            assert got["x-b3-spanid"] == span
    finally:
        receiver.stop()
