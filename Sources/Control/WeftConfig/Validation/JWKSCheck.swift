import WeftJWT

/// Whether a JSON Web Key Set text gives usable keys, with the same parser the proxies use (so a key set that
/// validation accepts is one weft proxy accepts too). Used by validation (inline `jwks`) and by the control
/// plane for what a `jwksUri` returns.
public enum JWKSCheck {
    /// nil when the set parses into at least one usable key; else why not.
    public static func problem(_ json: String) -> String? {
        do {
            _ = try JWKS(json: json)
            return nil
        } catch {
            return error.description
        }
    }
}
