// WeftHTTPClient: a small one-request-per-connection HTTP/1.1 client over NIO, for the CLI's calls to the
// control plane, readiness probes and the sample app's calls through its sidecar (HTTP_PROXY). Off the data path.
