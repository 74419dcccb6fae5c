// ProxyRouting: the proxy's runtime configuration as validated, compiled Swift values, and the pure logic
// that runs over it per request: route matching, weighted choice, header edits, rewrites, and the HTTP
// filters' decisions (Filters/: fault, local rate limit), compiled when config arrives. It never touches
// protobuf (XDSClient converts xDS at the edge), sockets or clocks, so the control plane's output can be
// checked end to end ("request X from proxy P lands on cluster C") without a network.
