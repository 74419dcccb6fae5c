#!/usr/bin/env bash
# The Weft demo: builds weft and the sample shop (weft-sample), then runs `weft demo`: a control plane, six
# services (front page, details, reviews v1/v2/v3, ratings) and a load generator, each with its own weft proxy
# sidecar on its own loopback address. It prints the front page's URL and recipes to try, and runs until Ctrl-C.
#   scripts/demo.sh --once    walk through the recipes (canary, header route, fault, rollback), print, stop
#   scripts/demo.sh --ipv6    the same on IPv6 loopback only
# Any flag of `weft demo --help` works. The Envoy walk-through is scripts/demo-envoy.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build >/dev/null 2>&1 || swift build
BIN=$(swift build --show-bin-path)
export PATH="$BIN:$PATH"
exec "$BIN/weft" demo "$@"
