"""Issue 10: HTTP/2 flow control toward a client is honoured: a client that grants no window and opens many
streams for large responses cannot make the sidecar buffer the responses (Envoy: per-connection buffer limit)."""

from __future__ import annotations

import socket
import time

import h2.config
import h2.connection
import h2.events
import h2.settings

from helpers import route_all, rss_mib


def test_a_zero_window_client_cannot_make_the_proxy_buffer_responses(reviews_mesh, report):
    m = reviews_mesh
    e = m.envoys[0]
    m.apply(route_all("v1"))
    m.wait_routing("reviews", "v1")
    pid = e.proc.popen.pid
    before = rss_mib(pid)
    host, port = e.outbound.rsplit(":", 1)
    sock = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
    streams, size = 40, 20_000_000
    for _ in range(streams):
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, [(":method", "GET"), (":path", f"/bytes/{size}"), (":scheme", "http"),
                                (":authority", "reviews")], end_stream=True)
    sock.sendall(conn.data_to_send())
    # Keep reading frames (TCP keeps flowing) but never grant a byte of window, for a few seconds.
    heads, data = 0, 0
    deadline = time.monotonic() + 6
    sock.settimeout(0.5)
    peak = before
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            chunk = b""
        if chunk:
            for ev in conn.receive_data(chunk):
                if isinstance(ev, h2.events.ResponseReceived):
                    heads += 1
                elif isinstance(ev, h2.events.DataReceived):
                    data += len(ev.data)
            out = conn.data_to_send()
            if out:
                sock.sendall(out)  # SETTINGS/PING acks only; h2 sends no WINDOW_UPDATE unless told
        peak = max(peak, rss_mib(pid))
    sock.close()
    time.sleep(1)
    after = rss_mib(pid)
    report(f"{streams} streams x {size // 1_000_000} MB to a zero-window client: proxy RSS before / peak / after (MiB)",
           f"{before:.0f} / {peak:.0f} / {after:.0f}")
    assert heads > 0, "no response headers came back at all"
    assert data <= 65535, f"the proxy sent {data} bytes of DATA with no stream window granted"
    assert peak - before < 64, f"the proxy's memory grew from {before:.0f} to {peak:.0f} MiB"
    # The proxy still serves.
    r = e.request("reviews", "/after")
    assert r.status_code == 200, r.text
