// WeftMesh: a whole mesh on one machine. It owns the mesh.yaml model and its validation, the plan that gives
// every workload its own loopback address and ports, and the process supervisor (process groups, prefixed
// logs, restart with backoff, ordered stop). It knows nothing of xDS, the registry's internals or the CLI.
