from helpers import virtual_service, route_all, wait_until, RawConn

def test_explore_grpc(reviews_mesh):
    m = reviews_mesh
    m.apply(virtual_service("""
        - fault:
            abort:
              grpcStatus: UNAVAILABLE
              percentage:
                value: 100
          route:
          - destination:
              host: reviews
              subset: v1
        """))
    import time; time.sleep(3); print("FIRST", m.request("reviews").status_code, dict(m.request("reviews").headers))
    e = m.envoys[0]
    for hdrs in ({}, {"content-type": "application/grpc"}):
        r = m.request("reviews", "/pkg.Svc/M", headers=hdrs, method="POST", data=b"")
        print("PLANE", m.dataplane, hdrs, r.status_code, dict(r.headers), repr(r.text[:200]))
    with RawConn(e.host, e.outbound_port) as c:
        c.send(b"POST /pkg.Svc/M HTTP/1.1\r\nHost: reviews\r\ncontent-type: application/grpc\r\nte: trailers\r\ncontent-length: 0\r\n\r\n")
        r = c.response(); print("RAW", m.dataplane, r.status_line, r.headers, r.body)
