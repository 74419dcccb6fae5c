// XDSTranslation: pure functions from (MeshState, ProxyNode) to Envoy v3 resources. No I/O, no clock, no
// globals: the same input always gives the same output, so results can be cached by input.
