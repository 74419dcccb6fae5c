// WeftControl: assembles the control plane (registry, folder watcher, TTL expiry, debounced publishing,
// the xDS gRPC server and the HTTP API) and runs it until cancelled. Async code is fine here: this is the
// control plane, not a proxy's data path.
