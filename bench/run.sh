#!/usr/bin/env bash
# Benchmark: weft proxy vs Envoy on loopback, one worker each, both fed the same routes by weft control.
# Upstream: nginx serving a 1 KiB body. Measures max requests/s (wrk -c32, HTTP/1.1 keep-alive), latency at a
# fixed 1000 requests/s (hey), HTTP/2 throughput (h2load, prior knowledge), and resident memory idle and under
# load; then the same through two sidecars of each data plane with mutual TLS between them (client sidecar ->
# server sidecar's inbound listener -> nginx), and the time to issue a workload certificate (Envoy's by SDS:
# key and signature in the control plane; weft proxy's: key, CSR, the call and the TLS contexts, end to end).
# Prints the ratios Weft/Envoy and, with --record, appends them to docs/BENCHMARKS.md.
# Needs (Debian): nginx wrk hey nghttp2-client; Envoy from .venv (scripts/test.sh --setup-only).
# Usage: bench/run.sh [seconds] [--record]
# WEFT_BASELINE=/path/to/an/older/weft also measures that binary's proxy ("before"), fed by the same control
# plane in the same run, so a change to the data path is judged against its baseline and Envoy at once.
# WEFT_AFTER=/path/to/weft measures that binary as "weft" instead of building this tree.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
D=${1:-8}
RECORD=${2:-}
for t in nginx wrk hey h2load; do command -v $t >/dev/null || { echo "bench needs $t (apt-get install nginx wrk hey nghttp2-client)"; exit 1; }; done
bash scripts/test.sh --setup-only >/dev/null
# Built as a sidecar ships: release, with the Swift runtime and Foundation linked statically (Envoy is static too).
# WEFT_AFTER=/path/to/weft measures that binary instead of building this tree (say, a commit built elsewhere).
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
http { access_log off; server { listen 127.0.0.1:18080 reuseport; keepalive_requests 1000000;
  location / { root $W; try_files /body =404; } } }
NG
mkdir -p "$W/config"
cat > "$W/config/bench.yaml" <<YAML
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: bench}
spec:
  hosts: [bench.default.svc.cluster.local]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 127.0.0.1, ports: {http: 18080}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bench}
spec:
  hosts: [bench]
  http: [{route: [{destination: {host: bench}}]}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: bench-mtls-envoy}
spec:
  hosts: [bench-mtls-envoy.default.svc.cluster.local]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  workloadSelector: {labels: {app: bench-mtls-envoy}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: bench-mtls-envoy}
spec: {address: 127.0.0.1, ports: {http: 18091}, serviceAccount: bench, labels: {app: bench-mtls-envoy, security.istio.io/tlsMode: istio}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: bench-mtls-weft}
spec:
  hosts: [bench-mtls-weft.default.svc.cluster.local]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  workloadSelector: {labels: {app: bench-mtls-weft}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: bench-mtls-weft}
spec: {address: 127.0.0.1, ports: {http: 18094}, serviceAccount: bench, labels: {app: bench-mtls-weft, security.istio.io/tlsMode: istio}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
YAML
nginx -c "$W/up.conf" & PIDS+=($!)
export WEFT_CONFIG="$W/cli.json"  # where the control plane records its admin token for `weft token create`
"$WEFT" control --config "$W/config" --data "$W/data" --xds 127.0.0.1:18010 --api 127.0.0.1:18014 2>"$W/control.log" & PIDS+=($!)
# Join tokens for the sidecars (the xDS port takes only callers with a token or a mesh certificate).
join() { for _ in $(seq 100); do "$WEFT" token create --server 127.0.0.1:18014 --service-account "$1" 2>/dev/null && return; sleep 0.1; done; exit 1; }
TOK=$(join default); TOK_BENCH=$(join bench)
export WEFT_JOIN_TOKEN="$TOK"
"$WEFT" bootstrap envoy --node bench-envoy --control-plane 127.0.0.1:18010 --outbound 127.0.0.1:18081 --admin 127.0.0.1:18901 > "$W/envoy.yaml"
"$ENVOY" -c "$W/envoy.yaml" --concurrency 1 -l error --disable-hot-restart > "$W/envoy.log" 2>&1 & EPID=$!; PIDS+=($EPID)
"$WEFT" proxy --node bench-weft --control-plane 127.0.0.1:18010 --outbound 127.0.0.1:18084 --admin 127.0.0.1:18904 --concurrency 1 2>"$W/weft.log" & WPID=$!; PIDS+=($WPID)
# The server sidecars of the mTLS runs (STRICT: only mTLS reaches nginx through them).
WEFT_JOIN_TOKEN="$TOK_BENCH" "$WEFT" bootstrap envoy --node bench-envoy-server --service-account bench --control-plane 127.0.0.1:18010 \
  --inbound 127.0.0.1:18091=127.0.0.1:18080 --admin 127.0.0.1:18902 > "$W/envoy-server.yaml"
"$ENVOY" -c "$W/envoy-server.yaml" --concurrency 1 -l error --disable-hot-restart --base-id 7 > "$W/envoy-server.log" 2>&1 & PIDS+=($!)
WEFT_JOIN_TOKEN="$TOK_BENCH" "$WEFT" proxy --node bench-weft-server --service-account bench --control-plane 127.0.0.1:18010 \
  --inbound 127.0.0.1:18094=127.0.0.1:18080 --admin 127.0.0.1:18906 --concurrency 1 2>"$W/weft-server.log" & PIDS+=($!)
PORTS=(18081 18084)
if [ -n "${WEFT_BASELINE:-}" ]; then
  "$WEFT_BASELINE" proxy --node bench-before --control-plane 127.0.0.1:18010 --outbound 127.0.0.1:18085 --admin 127.0.0.1:18905 --concurrency 1 2>"$W/before.log" & BPID=$!; PIDS+=($BPID)
  PORTS+=(18085)
fi
for p in "${PORTS[@]}"; do
  for _ in $(seq 100); do curl -sf -o /dev/null -H 'Host: bench' "http://127.0.0.1:$p/" && break; sleep 0.1; done
done
rss() { awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$1/status" 2>/dev/null || echo "-"; }
declare -A RPS P50 P99 IDLE LOAD H2
measure() { # name port pid [host]
  local n=$1 p=$2 pid=${3:-} host=${4:-bench}
  for _ in $(seq 100); do curl -sf -o /dev/null -H "Host: $host" "http://127.0.0.1:$p/" && break; sleep 0.1; done
  curl -sf -o /dev/null -H "Host: $host" "http://127.0.0.1:$p/" || { echo "$n: not answering"; return; }
  [ -n "$pid" ] && IDLE[$n]=$(rss "$pid") || IDLE[$n]="-"
  wrk -t1 -c32 -d${D}s -H "Host: $host" "http://127.0.0.1:$p/" > "$W/wrk-$n.txt" 2>&1 &
  local wk=$!
  sleep $((D / 2)); [ -n "$pid" ] && LOAD[$n]=$(rss "$pid") || LOAD[$n]="-"
  wait $wk
  RPS[$n]=$(awk '/Requests\/sec/{print $2}' "$W/wrk-$n.txt")
  local lat
  lat=$(hey -z ${D}s -c 10 -q 100 -host "$host" "http://127.0.0.1:$p/" 2>/dev/null | awk '/50%? in/{p50=$3} /99%? in/{p99=$3} END{printf "%.3f %.3f", p50*1000, p99*1000}')
  P50[$n]=${lat% *}; P99[$n]=${lat#* }
  H2[$n]=$(h2load -n 200000 -c 8 -m 16 -t 1 -H ":authority: $host" "http://127.0.0.1:$p/" 2>/dev/null | awk '/^finished in/{print $4}' | tr -d ',' || true)
  [ -n "${H2[$n]}" ] || H2[$n]="-"
  printf "%-7s max_rps=%-10s p50_ms@1k=%-7s p99_ms@1k=%-7s h2_rps=%-10s rss_idle_mib=%-6s rss_load_mib=%s\n" \
    "$n" "${RPS[$n]}" "${P50[$n]}" "${P99[$n]}" "${H2[$n]}" "${IDLE[$n]}" "${LOAD[$n]}"
}
measure direct 18080
measure envoy 18081 $EPID
measure weft 18084 $WPID
[ -n "${WEFT_BASELINE:-}" ] && measure before 18085 $BPID
# Two sidecars with mTLS between them: the client sidecars above call their own data plane's server sidecar.
measure envoy-mtls 18081 $EPID bench-mtls-envoy
measure weft-mtls 18084 $WPID bench-mtls-weft
# Certificate issue times from the logs (the first one and every renewal of this run).
ISSUE_ENVOY=$(grep -o 'took_ms=[0-9.]*' "$W/control.log" | cut -d= -f2 | sort -n | awk '{a[NR]=$1} END{if (NR) printf "%.2f", a[int((NR+1)/2)]; else print "-"}')
ISSUE_WEFT=$(cat "$W/weft.log" "$W/weft-server.log" | grep -o 'took_ms=[0-9.]*' | cut -d= -f2 | sort -n | awk '{a[NR]=$1} END{if (NR) printf "%.2f", a[int((NR+1)/2)]; else print "-"}')
echo "certificate issue, median ms: envoy (SDS, key made by the control plane) $ISSUE_ENVOY; weft proxy (own key, CSR, end to end) $ISSUE_WEFT"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a+0>0 && b+0>0) printf "%.2f", a/b; else print "-" }'; }
added() { awk -v a="$1" -v d="$2" 'BEGIN{ if (a+0>0) printf "%.3f", a-d; else print "-" }'; }
echo
[ -n "${WEFT_BASELINE:-}" ] && echo "weft/before: max_rps $(ratio "${RPS[weft]}" "${RPS[before]}")  h2_rps $(ratio "${H2[weft]}" "${H2[before]}")  p99 ms weft ${P99[weft]} vs before ${P99[before]}"
echo "with mTLS between two sidecars, weft/envoy: max_rps $(ratio "${RPS[weft-mtls]}" "${RPS[envoy-mtls]}")  h2_rps $(ratio "${H2[weft-mtls]}" "${H2[envoy-mtls]}")  added p50 ms weft $(added "${P50[weft-mtls]}" "${P50[direct]}") vs envoy $(added "${P50[envoy-mtls]}" "${P50[direct]}")  added p99 ms weft $(added "${P99[weft-mtls]}" "${P99[direct]}") vs envoy $(added "${P99[envoy-mtls]}" "${P99[direct]}")"
echo "weft/envoy: max_rps $(ratio "${RPS[weft]}" "${RPS[envoy]}")  h2_rps $(ratio "${H2[weft]}" "${H2[envoy]}")  added p50 ms weft $(added "${P50[weft]}" "${P50[direct]}") vs envoy $(added "${P50[envoy]}" "${P50[direct]}")  added p99 ms weft $(added "${P99[weft]}" "${P99[direct]}") vs envoy $(added "${P99[envoy]}" "${P99[direct]}")"
if [ "$RECORD" = --record ]; then
  {
    echo
    echo "## $(date -u +%Y-%m-%d) — $(nproc) cores, $(awk -F: '/model name/{print $2; exit}' /proc/cpuinfo | sed 's/^ *//'), ${D}s per run"
    echo
    echo "| target | max rps (wrk -c32) | HTTP/2 rps (h2load -c8 -m16) | p50 ms @1k rps | p99 ms @1k rps | RSS idle MiB | RSS under load MiB |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
    NAMES=(direct envoy weft); [ -n "${WEFT_BASELINE:-}" ] && NAMES+=(before)
    NAMES+=(envoy-mtls weft-mtls)
    for n in "${NAMES[@]}"; do
      echo "| $n | ${RPS[$n]:--} | ${H2[$n]:--} | ${P50[$n]:--} | ${P99[$n]:--} | ${IDLE[$n]:--} | ${LOAD[$n]:--} |"
    done
    echo
    [ -n "${WEFT_BASELINE:-}" ] && echo "\`before\` is ${WEFT_BASELINE_NAME:-the baseline binary} in the same run: weft/before max rps $(ratio "${RPS[weft]}" "${RPS[before]}"), HTTP/2 rps $(ratio "${H2[weft]}" "${H2[before]}"), p99 ms ${P99[weft]} vs ${P99[before]}." && echo
    echo "\`envoy-mtls\` and \`weft-mtls\`: through two sidecars of that data plane (client sidecar, then the server sidecar's inbound listener under a STRICT PeerAuthentication), mutual TLS between them; RSS is the client sidecar's. Ratios weft/envoy with mTLS: max rps $(ratio "${RPS[weft-mtls]}" "${RPS[envoy-mtls]}"), HTTP/2 rps $(ratio "${H2[weft-mtls]}" "${H2[envoy-mtls]}"); added latency over direct: p50 weft $(added "${P50[weft-mtls]}" "${P50[direct]}") ms vs envoy $(added "${P50[envoy-mtls]}" "${P50[direct]}") ms, p99 weft $(added "${P99[weft-mtls]}" "${P99[direct]}") ms vs envoy $(added "${P99[envoy-mtls]}" "${P99[direct]}") ms. Certificate issue, median: Envoy's (key made and signed by the control plane, for SDS) $ISSUE_ENVOY ms; weft proxy's (own key, CSR, call, TLS contexts) $ISSUE_WEFT ms."
    echo
    echo "Ratios weft/envoy: max rps $(ratio "${RPS[weft]}" "${RPS[envoy]}"), HTTP/2 rps $(ratio "${H2[weft]}" "${H2[envoy]}"). Added latency over direct: p50 weft $(added "${P50[weft]}" "${P50[direct]}") ms vs envoy $(added "${P50[envoy]}" "${P50[direct]}") ms; p99 weft $(added "${P99[weft]}" "${P99[direct]}") ms vs envoy $(added "${P99[envoy]}" "${P99[direct]}") ms."
  } >> docs/BENCHMARKS.md
  echo "recorded in docs/BENCHMARKS.md"
fi
