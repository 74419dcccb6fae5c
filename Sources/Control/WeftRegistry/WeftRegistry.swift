// WeftRegistry: where config and workloads come from and where they are kept: the watched config folder,
// resources applied through the API (kept by a RegistryStore), and workloads registered with a TTL.
// It validates every change as a whole before taking it and hands out immutable MeshState snapshots.
// It knows nothing of xDS or Envoy.
