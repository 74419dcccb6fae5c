#!/usr/bin/env bash
# Benchmark: the cost of authorization in the proxy. Two sidecars per data plane with mutual TLS between them
# (client sidecar -> server sidecar's inbound listener -> nginx, 1 KiB body), the server sidecar either without
# policy or with 10 AuthorizationPolicies (ALLOW and DENY, principals, namespaces, paths, methods, headers, IP
# blocks, JWT claims) and a RequestAuthentication (RS256, inline keys), every request carrying a valid token.
# Measures max requests/s (wrk -c32, keep-alive) and latency at a fixed 1000 requests/s (hey) for each, and
# prints each data plane's cost (1 - rps with policy / rps without) and the added latency; with --record,
# appends them to docs/BENCHMARKS.md. Needs nginx wrk hey; Envoy and Python's cryptography from .venv.
# Usage: bench/authz.sh [seconds] [--record]; WEFT_AFTER=/path/to/weft measures that binary.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
D=${1:-8}
RECORD=${2:-}
for t in nginx wrk hey; do command -v $t >/dev/null || { echo "bench needs $t (apt-get install nginx wrk hey)"; exit 1; }; done
bash scripts/test.sh --setup-only >/dev/null
if [[ -n "${WEFT_AFTER:-}" ]]; then
  WEFT="$WEFT_AFTER"
else
  BUILD=(swift build -c release --product weft --static-swift-stdlib --scratch-path .build-static)
  "${BUILD[@]}" >/dev/null 2>&1 || "${BUILD[@]}"
  WEFT="$ROOT/.build-static/release/weft"
fi
ENVOY="$ROOT/.venv/bin/envoy"
W=$(mktemp -d); chmod 755 "$W"
PIDS=()
trap 'kill ${PIDS[@]} 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
head -c 1024 /dev/zero | tr '\0' 'x' > "$W/body"
cat > "$W/up.conf" <<NG
worker_processes 1; daemon off; pid $W/up.pid; error_log $W/up.err;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:18180 reuseport; keepalive_requests 1000000;
  location / { root $W; try_files /body =404; } } }
NG
# A signing key, its JWKS and a token valid for a day (the same helpers as the e2e tests).
PYTHONPATH="$ROOT/tests/e2e" "$ROOT/.venv/bin/python" - "$W" <<'PY'
import sys
from jwt_helpers import Key, jwks, mint
k = Key.rsa(kid="bench")
open(sys.argv[1] + "/jwks.json", "w").write(jwks(k))
open(sys.argv[1] + "/token", "w").write(mint(k, sub="bench-user", exp_offset=86400, extra_claims={"groups": ["dev"]}))
PY
TOKEN=$(cat "$W/token")
mkdir -p "$W/config"
{
  for plane in envoy weft; do for mode in none authz; do
    port=$([ $plane = envoy ] && echo 1819 || echo 1829)$([ $mode = none ] && echo 1 || echo 2)
    cat <<YAML
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: $plane-$mode}
spec:
  hosts: [$plane-$mode.default.svc.cluster.local]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  workloadSelector: {labels: {app: $plane-$mode}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: $plane-$mode}
spec: {address: 127.0.0.1, ports: {http: $port}, serviceAccount: server, labels: {app: $plane-$mode, policy: "$mode", security.istio.io/tlsMode: istio}}
---
YAML
  done; done
  cat <<YAML
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt}
spec:
  selector: {matchLabels: {policy: authz}}
  jwtRules: [{issuer: "https://issuer.test", audiences: [weft-tests], jwks: '$(cat "$W/jwks.json")'}]
YAML
  n=0
  pol() { n=$((n + 1)); printf -- '---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p%s}\nspec:\n  selector: {matchLabels: {policy: authz}}\n%s\n' "$n" "$1"; }
  pol '  action: ALLOW
  rules: [{from: [{source: {principals: [cluster.local/ns/default/sa/front]}}], to: [{operation: {methods: [GET, HEAD], paths: ["/*"]}}]}]'
  pol '  action: ALLOW
  rules: [{from: [{source: {requestPrincipals: ["https://issuer.test/*"]}}], when: [{key: "request.auth.claims[groups]", values: [dev]}]}]'
  pol '  action: ALLOW
  rules: [{from: [{source: {namespaces: [shop]}}], to: [{operation: {paths: ["/api/*"]}}]}]'
  pol '  action: DENY
  rules: [{to: [{operation: {paths: [/admin, "/admin/*"]}}]}]'
  pol '  action: DENY
  rules: [{from: [{source: {notNamespaces: [default, shop]}}]}]'
  pol '  action: DENY
  rules: [{when: [{key: "request.headers[x-block]", values: ["yes"]}]}]'
  pol '  action: DENY
  rules: [{from: [{source: {ipBlocks: [10.0.0.0/8, "192.168.0.0/16"]}}]}]'
  pol '  action: DENY
  rules: [{to: [{operation: {methods: [DELETE, PUT, PATCH]}}]}]'
  pol '  action: DENY
  rules: [{from: [{source: {principals: ["*/sa/evil"]}}]}]'
  pol '  action: DENY
  rules: [{when: [{key: "request.auth.claims[groups]", values: [banned]}]}]'
} > "$W/config/bench.yaml"
nginx -c "$W/up.conf" & PIDS+=($!)
export WEFT_CONFIG="$W/cli.json"
"$WEFT" control --config "$W/config" --data "$W/data" --xds 127.0.0.1:18110 --api 127.0.0.1:18114 2>"$W/control.log" & PIDS+=($!)
sleep 0.5; kill -0 ${PIDS[-1]} 2>/dev/null || { cat "$W/control.log"; exit 1; }
join() { for _ in $(seq 100); do "$WEFT" token create --server 127.0.0.1:18114 --service-account "$1" 2>/dev/null && return; sleep 0.1; done; exit 1; }
TOK_FRONT=$(join front); TOK_SERVER=$(join server)
CP=(--control-plane 127.0.0.1:18110)
# Client sidecars (identity front), then the four server sidecars.
WEFT_JOIN_TOKEN="$TOK_FRONT" "$WEFT" bootstrap envoy --node c-envoy --service-account front "${CP[@]}" --outbound 127.0.0.1:18181 --admin 127.0.0.1:18981 > "$W/c-envoy.yaml"
"$ENVOY" -c "$W/c-envoy.yaml" --concurrency 1 -l error --disable-hot-restart --drain-strategy immediate --base-id 21 > "$W/c-envoy.log" 2>&1 & PIDS+=($!)
WEFT_JOIN_TOKEN="$TOK_FRONT" "$WEFT" proxy --node c-weft --service-account front "${CP[@]}" --outbound 127.0.0.1:18184 --admin 127.0.0.1:18984 --concurrency 1 2>"$W/c-weft.log" & PIDS+=($!)
declare -A SPID
for plane in envoy weft; do for mode in none authz; do
  port=$([ $plane = envoy ] && echo 1819 || echo 1829)$([ $mode = none ] && echo 1 || echo 2)
  admin=$((port + 700))
  if [ $plane = envoy ]; then
    WEFT_JOIN_TOKEN="$TOK_SERVER" "$WEFT" bootstrap envoy --node s-$plane-$mode --service-account server --labels app=$plane-$mode,policy=$mode \
      "${CP[@]}" --inbound 127.0.0.1:$port=127.0.0.1:18180 --admin 127.0.0.1:$admin > "$W/s-$plane-$mode.yaml"
    "$ENVOY" -c "$W/s-$plane-$mode.yaml" --concurrency 1 -l error --disable-hot-restart --drain-strategy immediate --base-id $((port % 100)) \
      > "$W/s-$plane-$mode.log" 2>&1 & SPID[$plane-$mode]=$!
  else
    WEFT_JOIN_TOKEN="$TOK_SERVER" "$WEFT" proxy --node s-$plane-$mode --service-account server --labels app=$plane-$mode,policy=$mode \
      "${CP[@]}" --inbound 127.0.0.1:$port=127.0.0.1:18180 --admin 127.0.0.1:$admin --concurrency 1 2>"$W/s-$plane-$mode.log" & SPID[$plane-$mode]=$!
  fi
  PIDS+=(${SPID[$plane-$mode]})
done; done
declare -A RPS P50 P99
measure() { # name client-port host
  local n=$1 p=$2 host=$3
  for _ in $(seq 200); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $host" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$p/")" = 200 ] && break; sleep 0.1
  done
  local code; code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $host" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$p/")
  [ "$code" = 200 ] || { echo "$n: answers $code"; tail -5 "$W/control.log"; return; }
  # The policies are really in effect: a request a DENY policy matches is refused.
  if [[ $n == *authz ]]; then
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $host" -H "x-block: yes" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$p/")
    [ "$code" = 403 ] || echo "$n: a request a DENY policy matches answered $code, expected 403"
  fi
  wrk -t1 -c32 -d${D}s -H "Host: $host" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$p/" > "$W/wrk-$n.txt" 2>&1
  RPS[$n]=$(awk '/Requests\/sec/{print $2}' "$W/wrk-$n.txt")
  local lat
  lat=$(hey -z ${D}s -c 10 -q 100 -host "$host" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$p/" 2>/dev/null | awk '/50%? in/{p50=$3} /99%? in/{p99=$3} END{printf "%.3f %.3f", p50*1000, p99*1000}')
  P50[$n]=${lat% *}; P99[$n]=${lat#* }
  printf "%-12s max_rps=%-10s p50_ms@1k=%-7s p99_ms@1k=%s\n" "$n" "${RPS[$n]}" "${P50[$n]}" "${P99[$n]}"
}
# Alternating runs, three each; the median is reported.
declare -A ALL
for round in 1 2 3; do
  for plane in envoy weft; do
    port=$([ $plane = envoy ] && echo 18181 || echo 18184)
    for mode in none authz; do
      measure $plane-$mode $port $plane-$mode.default.svc.cluster.local
      ALL[$plane-$mode]+="${RPS[$plane-$mode]:-0} ${P50[$plane-$mode]:-0} ${P99[$plane-$mode]:-0};"
    done
  done
done
median() { tr ';' '\n' <<< "${ALL[$1]}" | awk -v c=$2 'NF{print $c}' | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
cost() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a+0>0 && b+0>0) printf "%.1f%%", (1-b/a)*100; else print "-" }'; }
diffms() { awk -v a="$1" -v b="$2" 'BEGIN{ printf "%.3f", b-a }'; }
echo
for n in envoy-none envoy-authz weft-none weft-authz; do
  printf "median %-12s max_rps=%-10s p50_ms=%-7s p99_ms=%s\n" $n "$(median $n 1)" "$(median $n 2)" "$(median $n 3)"
done
for plane in envoy weft; do
  echo "$plane: throughput cost of policy $(cost "$(median $plane-none 1)" "$(median $plane-authz 1)"), added p50 $(diffms "$(median $plane-none 2)" "$(median $plane-authz 2)") ms, added p99 $(diffms "$(median $plane-none 3)" "$(median $plane-authz 3)") ms"
done
if [ "$RECORD" = --record ]; then
  {
    echo
    echo "## $(date -u +%Y-%m-%d) — authorization cost (bench/authz.sh), $(nproc) cores, ${D}s per run, median of 3 alternating runs"
    echo
    echo "Two sidecars with mTLS; the server sidecar with no policy, or with 10 AuthorizationPolicies and a RequestAuthentication (RS256), every request carrying a valid token."
    echo
    echo "| target | max rps (wrk -c32) | p50 ms @1k rps | p99 ms @1k rps |"
    echo "| --- | --- | --- | --- |"
    for n in envoy-none envoy-authz weft-none weft-authz; do echo "| $n | $(median $n 1) | $(median $n 2) | $(median $n 3) |"; done
    echo
    for plane in envoy weft; do
      echo "- $plane: throughput cost of policy $(cost "$(median $plane-none 1)" "$(median $plane-authz 1)"); added p50 $(diffms "$(median $plane-none 2)" "$(median $plane-authz 2)") ms, p99 $(diffms "$(median $plane-none 3)" "$(median $plane-authz 3)") ms."
    done
    echo "- weft/envoy with policy: max rps $(awk -v a="$(median weft-authz 1)" -v b="$(median envoy-authz 1)" 'BEGIN{printf "%.2f", a/b}')."
  } >> docs/BENCHMARKS.md
  echo "recorded in docs/BENCHMARKS.md"
fi
