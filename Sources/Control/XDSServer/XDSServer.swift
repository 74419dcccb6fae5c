// XDSServer: Envoy's Aggregated Discovery Service. Each stream (ADSStreamState, state of the world) takes its
// proxy's resources from the XDSCache, which translates a MeshState once per distinct proxy view through an
// injected XDSGenerator, and diffs, sends and records ACKs, NACKs and the version each proxy is in sync with.
// A delta stream type goes beside ADSStreamState and reads the same cache. It does not know where config comes
// from (the registry publishes into SnapshotHub) and holds no socket code of its own.
