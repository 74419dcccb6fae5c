/// The live dashboard `weft control` serves at `/dashboard` on its API address: one self-contained page (no
/// build step, no download), which reads the same API as the CLI with the token it is given in the URL's
/// fragment (`/dashboard#token=...`, never sent to the server) and redraws every two seconds. The page itself
/// holds no data, so it is served without a token.
enum DashboardPage {
    static let html: String = head + style + body + script
}
