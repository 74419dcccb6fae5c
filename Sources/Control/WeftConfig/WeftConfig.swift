// WeftConfig: Istio's networking API (VirtualService, DestinationRule, ServiceEntry, WorkloadEntry, Sidecar,
// Gateway) as validated Swift values. It turns YAML/JSON text into typed resources with diagnostics that name
// file, resource and field path. It knows nothing of Envoy, xDS, the registry or any I/O beyond the text given.
