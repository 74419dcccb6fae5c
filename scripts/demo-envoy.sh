#!/usr/bin/env bash
# The Weft demo mesh on this machine: weft control, a stock Envoy as the sidecar (bootstrapped by
# `weft bootstrap envoy`), and three versions of a `reviews` service as plain processes. It walks through
# header routing, a 10% canary, a fault drill, a refused config and a rollback, then keeps the mesh up
# until Ctrl-C. `scripts/demo-envoy.sh --once` stops after the walk-through. (The main demo is scripts/demo.sh:
# `weft demo`, a whole shop of services on weft proxy sidecars.)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ONCE=${1:-}

bash scripts/test.sh --setup-only >/dev/null
swift build >/dev/null 2>&1 || swift build
WEFT="$(swift build --show-bin-path)/weft"
ENVOY="$ROOT/.venv/bin/envoy"
PY="$ROOT/.venv/bin/python"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

API=127.0.0.1:15014 XDS=127.0.0.1:15010 OUT=127.0.0.1:15001 ADMIN=127.0.0.1:15000
for v in 1 2 3; do
  "$PY" tests/e2e/upstream.py --port "1908$v" --name reviews --version "v$v" >"$WORK/reviews-v$v.log" 2>&1 & PIDS+=($!)
done
mkdir -p "$WORK/config"
cp examples/demo/*.yaml "$WORK/config/"
"$WEFT" control --config "$WORK/config" --data "$WORK/data" --xds "$XDS" --api "$API" 2>"$WORK/control.log" & PIDS+=($!)
# A join token for the sidecars (default/default): the xDS port takes only callers with a token or a mesh certificate.
for _ in $(seq 100); do WEFT_JOIN_TOKEN=$("$WEFT" token create --server "$API" 2>/dev/null) && break; sleep 0.1; done
export WEFT_JOIN_TOKEN
"$WEFT" bootstrap envoy --node productpage-1 --namespace default --labels app=productpage,version=v1 \
  --control-plane "$XDS" --outbound "$OUT" --admin "$ADMIN" >"$WORK/envoy.yaml"
"$ENVOY" -c "$WORK/envoy.yaml" --concurrency 1 -l warning --disable-hot-restart --drain-strategy immediate >"$WORK/envoy.log" 2>&1 & PIDS+=($!)
# A second sidecar: Weft's own data plane, fed the same config.
WOUT=127.0.0.1:15002 WADMIN=127.0.0.1:15003
"$WEFT" proxy --node reviews-client-2 --namespace default --labels app=productpage,version=v2 \
  --control-plane "$XDS" --outbound "$WOUT" --admin "$WADMIN" --concurrency 1 2>"$WORK/weft-proxy.log" & PIDS+=($!)

wait_for() { for _ in $(seq 1 100); do if eval "$1" >/dev/null 2>&1; then return 0; fi; sleep 0.1; done; echo "timed out: $1" >&2; exit 1; }
wait_for "curl -sf http://$ADMIN/ready"
wait_for "curl -sf -H 'Host: reviews' http://$OUT/"
wait_for "curl -sf http://$WADMIN/ready"

tally() { # N [curl args...]: count answers by version
  local n=$1; shift
  for _ in $(seq 1 "$n"); do
    curl -s "$@" -H 'Host: reviews' "http://$OUT/" | grep -o '"version": *"[^"]*"' | cut -d'"' -f4 || echo error
  done | sort | uniq -c | awk '{printf "%s=%s ", $2, $1} END {print ""}'
}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Weft demo mesh is up"
echo "control plane: xDS $XDS, API http://$API   sidecar (Envoy): outbound http://$OUT, admin http://$ADMIN"
echo "second sidecar (weft proxy): outbound http://$WOUT, admin http://$WADMIN"
echo "try: curl -H 'Host: reviews' http://$OUT/      logs: $WORK"
step "All traffic on v1; the tester 'jason' is pinned to v2 by a header route"
echo "anonymous: $(tally 20)"
echo "jason:     $(tally 10 -H 'end-user: jason')"
step "The same routes through weft proxy, Weft's own sidecar (http://$WOUT)"
echo "anonymous: $(OUT=$WOUT tally 20)"
echo "jason:     $(OUT=$WOUT tally 10 -H 'end-user: jason')"
step "Canary: weft apply -f examples/recipes/canary-10.yaml"
"$WEFT" apply -f examples/recipes/canary-10.yaml --server "$API"
sleep 0.5
echo "200 requests: $(tally 200)"
step "Fault drill: weft apply -f examples/recipes/fault-50.yaml"
"$WEFT" apply -f examples/recipes/fault-50.yaml --server "$API"
sleep 0.5
echo "40 requests: $(for _ in $(seq 40); do curl -s -o /dev/null -w '%{http_code}\n' -H 'Host: reviews' "http://$OUT/"; done | sort | uniq -c | awk '{printf "HTTP %s x%s  ", $2, $1} END {print ""}')"
step "A bad config is refused with the field path, and nothing changes"
"$WEFT" apply -f examples/recipes/bad-weight.yaml --server "$API" || echo "(weft apply exited $?)"
step "Rollback: weft apply -f examples/recipes/rollback.yaml"
"$WEFT" apply -f examples/recipes/rollback.yaml --server "$API"
sleep 0.5
echo "anonymous: $(tally 20)"
step "Proxy sync state (weft status)"
"$WEFT" status -o json --server "$API" | "$PY" -c 'import sys,json
s=json.load(sys.stdin)
for p in s["proxies"]:
    print(p["id"], "connected" if p["connected"] else "gone", "acked:", {k.rsplit(".",1)[-1]: v for k, v in p["acked"].items()}, "nack:", p["nack"])'

if [[ $ONCE == --once ]]; then exit 0; fi
step "The mesh keeps running. Edit $WORK/config or use 'weft apply --server $API'. Ctrl-C stops everything."
wait
