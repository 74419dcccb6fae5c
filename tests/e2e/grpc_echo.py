"""A gRPC echo server without generated code (generic handlers, raw bytes).

    /echo.Echo/Unary   returns the request bytes with trailing metadata x-trailer: yes;
                       the request b"fail" aborts with NOT_FOUND, details "no such thing"
    /echo.Echo/Bidi    echoes every message of the stream, in order

    /grpc.health.v1.Health/Check   the standard health service (hand-encoded, no generated code):
                       answers the status set with .set_health(service, status) (SERVING for "" and
                       "echo.Echo" at start; NOT_FOUND for services never set); each call is recorded
                       in .health_checks (the service name asked about)

GrpcEcho(host).start() listens on a port picked by the OS (.port); .stop() ends it.
.unary_calls counts the Unary calls this server answered.
"""

from __future__ import annotations

import threading
from concurrent import futures

import grpc

from pbwire import field, fields, varint

SERVICE = "echo.Echo"
UNARY = f"/{SERVICE}/Unary"
BIDI = f"/{SERVICE}/Bidi"
HEALTH_SERVICE = "grpc.health.v1.Health"
HEALTH_CHECK = f"/{HEALTH_SERVICE}/Check"

# grpc.health.v1.HealthCheckResponse.ServingStatus
UNKNOWN, SERVING, NOT_SERVING, SERVICE_UNKNOWN = 0, 1, 2, 3


def encode_health_request(service: str) -> bytes:
    """HealthCheckRequest{service = 1}."""
    return field(1, service) if service else b""


def decode_health_request(data: bytes) -> str:
    """The `service` field (1) of a HealthCheckRequest; other fields skipped."""
    return next((v.decode() for n, v in fields(data) if n == 1 and isinstance(v, bytes)), "")


def encode_health_response(status: int) -> bytes:
    """HealthCheckResponse{status = 1}."""
    return (b"\x08" + varint(status)) if status else b""


def decode_health_response(data: bytes) -> int:
    for n, v in fields(data):
        if n != 1 or not isinstance(v, int):
            raise ValueError(f"unexpected field {n} in HealthCheckResponse")
        return v
    return UNKNOWN


def _identity(b: bytes) -> bytes:
    return b


def _bidi(requests, context: grpc.ServicerContext):
    for msg in requests:
        yield msg


class GrpcEcho:
    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        self._lock = threading.Lock()
        self.unary_calls = 0
        self.health: dict[str, int] = {"": SERVING, SERVICE: SERVING}
        self.health_checks: list[str] = []
        handlers = {
            "Unary": grpc.unary_unary_rpc_method_handler(
                self._unary, request_deserializer=_identity, response_serializer=_identity),
            "Bidi": grpc.stream_stream_rpc_method_handler(
                _bidi, request_deserializer=_identity, response_serializer=_identity),
        }
        health = {
            "Check": grpc.unary_unary_rpc_method_handler(
                self._check, request_deserializer=_identity, response_serializer=_identity),
        }
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),
                                              grpc.method_handlers_generic_handler(HEALTH_SERVICE, health)))
        bind = f"[{host}]:0" if ":" in host else f"{host}:0"
        self.port = self.server.add_insecure_port(bind)
        if not self.port:
            raise RuntimeError(f"gRPC server could not bind {bind}")

    def _unary(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        with self._lock:
            self.unary_calls += 1
        if request == b"fail":
            context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
        context.set_trailing_metadata((("x-trailer", "yes"),))
        return request

    def _check(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        service = decode_health_request(request)
        with self._lock:
            self.health_checks.append(service)
            status = self.health.get(service)
        if status is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {service!r}")
        return encode_health_response(status)

    def set_health(self, service: str, status: int) -> None:
        """What Health/Check answers for service ("" is the whole server): SERVING, NOT_SERVING..."""
        with self._lock:
            self.health[service] = status

    def start(self) -> "GrpcEcho":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop(grace=1).wait(timeout=5)

    def __repr__(self) -> str:
        return f"GrpcEcho({self.host}:{self.port})"


def channel(target: str, authority: str | None = None) -> grpc.Channel:
    """An insecure channel to target (never via an http_proxy from the environment)."""
    opts = [("grpc.enable_http_proxy", 0)]
    if authority:
        opts.append(("grpc.default_authority", authority))
    return grpc.insecure_channel(target, options=opts)
