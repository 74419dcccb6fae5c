/// WeftCA: the mesh certificate authority inside `weft control`.
///
/// Owns the signing material (a root Weft creates and keeps under `--data`, or the user's own CA from files in
/// Istio's `cacerts` layout), the issuing of short-lived workload certificates whose URI SAN is the workload's
/// SPIFFE ID (from a public key, a CSR, or with a key made here for Envoy's SDS), and the checks that refuse
/// bad CA files with the file named. It must not know xDS, the registry or HTTP: the control plane hands it
/// identities and gets PEM back.
enum WeftCAModule {}
