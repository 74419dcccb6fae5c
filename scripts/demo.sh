#!/usr/bin/env bash
# The Weft demo: builds weft (one binary: it carries the sample shop as `weft sample`), then runs `weft demo`:
# a control plane, six services (front page, details, reviews v1/v2/v3, ratings) and a load generator, each with
# its own weft proxy sidecar on its own loopback address. It prints the front page's URL and recipes to try, and
# runs until Ctrl-C.
#   scripts/demo.sh --once    walk through the recipes (canary, header route, fault, rollback), print, stop
#   scripts/demo.sh --ipv6    the same on IPv6 loopback only
# Any flag of `weft demo --help` works. The Envoy walk-through is scripts/demo-envoy.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
# The first build takes several minutes: its progress is shown instead of silence (one line updated in place on
# a terminal, every step otherwise).
echo "building weft (the first build takes a few minutes) ..." >&2
if [[ -t 2 ]]; then step() { printf '\r  %-100.100s' "$1" >&2; }; else step() { printf '  %s\n' "$1" >&2; }; fi
swift build --product weft 2>&1 | while IFS= read -r line; do
  case "$line" in
    *error:*) printf '%s\n' "$line" >&2 ;;
    \[*) step "$line" ;;
  esac
done
status=${PIPESTATUS[0]}
[[ -t 2 ]] && printf '\r%-104s\r' "" >&2
if [[ $status -ne 0 ]]; then swift build --product weft; exit 1; fi
BIN=$(swift build --show-bin-path)
export PATH="$BIN:$PATH"
exec "$BIN/weft" demo "$@"
