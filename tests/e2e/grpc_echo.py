"""A gRPC echo server without generated code (generic handlers, raw bytes).

    /echo.Echo/Unary   returns the request bytes with trailing metadata x-trailer: yes;
                       the request b"fail" aborts with NOT_FOUND, details "no such thing"
    /echo.Echo/Bidi    echoes every message of the stream, in order

GrpcEcho(host).start() listens on a port picked by the OS (.port); .stop() ends it.
"""

from __future__ import annotations

from concurrent import futures

import grpc

SERVICE = "echo.Echo"
UNARY = f"/{SERVICE}/Unary"
BIDI = f"/{SERVICE}/Bidi"


def _identity(b: bytes) -> bytes:
    return b


def _unary(request: bytes, context: grpc.ServicerContext) -> bytes:
    if request == b"fail":
        context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
    context.set_trailing_metadata((("x-trailer", "yes"),))
    return request


def _bidi(requests, context: grpc.ServicerContext):
    for msg in requests:
        yield msg


class GrpcEcho:
    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        handlers = {
            "Unary": grpc.unary_unary_rpc_method_handler(
                _unary, request_deserializer=_identity, response_serializer=_identity),
            "Bidi": grpc.stream_stream_rpc_method_handler(
                _bidi, request_deserializer=_identity, response_serializer=_identity),
        }
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        bind = f"[{host}]:0" if ":" in host else f"{host}:0"
        self.port = self.server.add_insecure_port(bind)
        if not self.port:
            raise RuntimeError(f"gRPC server could not bind {bind}")

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
