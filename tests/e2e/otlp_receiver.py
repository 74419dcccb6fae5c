"""A real OTLP trace receiver for the tests: gRPC (opentelemetry.proto.collector.trace.v1.TraceService/Export,
served by grpcio) and HTTP/protobuf (POST /v1/traces), decoded with the `opentelemetry-proto` package.

OtlpReceiver(host).start() listens on .grpc_port and .http_port; .spans() lists every span received so far as
dicts: trace_id, span_id, parent_span_id (hex; "" when none), name, kind ("server"/"client"/...), service
(the resource's service.name), attributes (str -> str), via ("grpc"/"http").
"""

from __future__ import annotations

import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.trace.v1 import trace_pb2

KINDS = {trace_pb2.Span.SPAN_KIND_SERVER: "server", trace_pb2.Span.SPAN_KIND_CLIENT: "client",
         trace_pb2.Span.SPAN_KIND_INTERNAL: "internal", trace_pb2.Span.SPAN_KIND_PRODUCER: "producer",
         trace_pb2.Span.SPAN_KIND_CONSUMER: "consumer", trace_pb2.Span.SPAN_KIND_UNSPECIFIED: "unspecified"}


def _value(v) -> str:
    which = v.WhichOneof("value")
    return str(getattr(v, which)) if which else ""


class OtlpReceiver:
    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self._lock = threading.Lock()
        self._spans: list[dict] = []
        self.requests = 0
        self.posts: list[tuple] = []
        receiver = self

        class Servicer(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(self, request, context):  # noqa: N802 (the generated name)
                receiver._take(request, "grpc")
                return trace_service_pb2.ExportTraceServiceResponse()

        self.grpc_server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Servicer(), self.grpc_server)
        self.grpc_port = self.grpc_server.add_insecure_port(f"{host}:0")

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                if self.headers.get("transfer-encoding", "").lower() == "chunked":
                    body = b""
                    while size := int(self.rfile.readline().strip().split(b";")[0], 16):
                        body += self.rfile.read(size)
                        self.rfile.readline()
                    self.rfile.readline()
                else:
                    body = self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver.posts.append((self.path, self.headers.get("content-type"), len(body)))
                ok = self.path == "/v1/traces" and self.headers.get("content-type") == "application/x-protobuf"
                if ok:
                    req = trace_service_pb2.ExportTraceServiceRequest()
                    req.ParseFromString(body)
                    receiver._take(req, "http")
                out = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
                self.send_response(200 if ok else 400)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.http_server = ThreadingHTTPServer((host, 0), Handler)
        self.http_port = self.http_server.server_address[1]

    def _take(self, request, via: str) -> None:
        got = []
        for rs in request.resource_spans:
            service = next((_value(a.value) for a in rs.resource.attributes if a.key == "service.name"), "")
            for ss in rs.scope_spans:
                for s in ss.spans:
                    got.append(dict(trace_id=s.trace_id.hex(), span_id=s.span_id.hex(), parent_span_id=s.parent_span_id.hex(),
                                    name=s.name, kind=KINDS.get(s.kind, str(s.kind)), service=service, via=via,
                                    attributes={a.key: _value(a.value) for a in s.attributes}))
        with self._lock:
            self.requests += 1
            self._spans += got

    def start(self) -> "OtlpReceiver":
        self.grpc_server.start()
        threading.Thread(target=self.http_server.serve_forever, daemon=True).start()
        return self

    def spans(self) -> list[dict]:
        with self._lock:
            return list(self._spans)

    def stop(self) -> None:
        self.grpc_server.stop(0)
        self.http_server.shutdown()
        self.http_server.server_close()
