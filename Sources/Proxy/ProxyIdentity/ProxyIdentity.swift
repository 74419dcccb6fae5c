/// ProxyIdentity: weft proxy's mesh identity. It makes the proxy's private key in this process (it never leaves),
/// sends a CSR to the control plane's certificate service (Istio's `IstioCertificateService`, served beside
/// ADS), turns the chain it gets into TLS contexts for both sides of mTLS (`MeshCredentials`), and renews at
/// half the certificate's lifetime. It must not know xDS resources or the data path.
enum ProxyIdentityModule {}
