// WeftModel: the mesh as one immutable value. It joins validated config (WeftConfig) with registered
// workloads into services, endpoints and routing rules, and describes the proxies that ask for config.
// It owns no I/O, no clock and no Envoy types.
