// WeftCore: the vocabulary both planes share: diagnostics with field paths, host:port addresses, a proxy's
// inbound listener spec and locality text (parsed the same way by `weft proxy`, `weft bootstrap envoy` and the
// control plane), IP address text, port numbers, durations, FNV-1a hashing, JSON values, the YAML writer and the
// injected clock. It owns no I/O and knows nothing of Istio, Envoy or the network.
