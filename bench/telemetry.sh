#!/usr/bin/env bash
# Benchmark: the cost of telemetry in the proxy. One sidecar per data plane and mode in front of nginx (1 KiB
# body): "off" has Istio's standard metrics only (weft proxy always records them; Envoy always keeps its stats),
# "on" adds an access log to a file (Istio's text line) and tracing at 1% exported over OTLP/gRPC to a real
# receiver (Python grpcio with opentelemetry-proto), switched by one Telemetry resource selecting the "on" sidecars.
# Measures max requests/s (wrk -c32, keep-alive) and latency at a fixed 1000 requests/s (hey), three alternating
# rounds, median; then weft proxy's resident memory as the distinct label sets of its standard metrics grow to
# 1,000, 10,000 and 20,000 (the cap is 10,000 per worker; the rest go to an overflow series).
# With --record, appends the figures to docs/BENCHMARKS.md. Needs nginx wrk hey; Envoy and Python from .venv.
# Usage: bench/telemetry.sh [seconds] [--record]; WEFT_AFTER=/path/to/weft measures that binary.
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
PY="$ROOT/.venv/bin/python"
W=$(mktemp -d); chmod 755 "$W"
PIDS=()
trap 'kill ${PIDS[@]} 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
head -c 1024 /dev/zero | tr '\0' 'x' > "$W/body"
cat > "$W/up.conf" <<NG
worker_processes 1; daemon off; pid $W/up.pid; error_log $W/up.err;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:18280 reuseport; keepalive_requests 1000000;
  location / { root $W; try_files /body =404; } } }
NG
# The OTLP receiver (gRPC), counting spans.
cat > "$W/otlp.py" <<'PY'
import sys, time
sys.path.insert(0, sys.argv[1])
from otlp_receiver import OtlpReceiver
r = OtlpReceiver().start()
open(sys.argv[2], "w").write(str(r.grpc_port))
while True:
    time.sleep(1)
    open(sys.argv[3], "w").write(str(len(r.spans())))
PY
"$PY" "$W/otlp.py" "$ROOT/tests/e2e" "$W/otlp.port" "$W/otlp.spans" 2>"$W/otlp.log" & PIDS+=($!)
for _ in $(seq 100); do [ -s "$W/otlp.port" ] && break; sleep 0.1; done
OTLP=$(cat "$W/otlp.port")
cat > "$W/meshconfig.yaml" <<YAML
extensionProviders:
- name: otel
  opentelemetry: {service: 127.0.0.1, port: $OTLP}
- name: file
  envoyFileAccessLog: {path: $W/access-PLANE.log}
YAML
mkdir -p "$W/config"
cat > "$W/config/bench.yaml" <<YAML
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: bench}
spec:
  hosts: [bench.default.svc.cluster.local]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 127.0.0.1, ports: {http: 18280}}]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: telemetry-on, namespace: default}
spec:
  selector: {matchLabels: {telemetry: "on"}}
  accessLogging: [{providers: [{name: file}]}]
  tracing: [{providers: [{name: otel}], randomSamplingPercentage: 1}]
YAML
# One access log file per data plane: the provider's path is per mesh, so each plane gets its own control plane.
nginx -c "$W/up.conf" & PIDS+=($!)
export WEFT_CONFIG="$W/cli.json"
declare -A OUT PID
n=0
for plane in envoy weft; do
  n=$((n + 1))
  sed "s/PLANE/$plane/" "$W/meshconfig.yaml" > "$W/meshconfig-$plane.yaml"
  xds=$((18200 + n * 10)); api=$((xds + 4))
  "$WEFT" control --config "$W/config" --data "$W/data-$plane" --xds 127.0.0.1:$xds --api 127.0.0.1:$api \
    --mesh-config "$W/meshconfig-$plane.yaml" 2>"$W/control-$plane.log" & PIDS+=($!)
  sleep 0.5
  tok=""
  for _ in $(seq 100); do tok=$("$WEFT" token create --server 127.0.0.1:$api 2>/dev/null) && break; sleep 0.1; done
  for mode in off on; do
    port=$((18281 + n * 2 + $([ $mode = on ] && echo 1 || echo 0)))
    admin=$((port + 700))
    OUT[$plane-$mode]=$port
    if [ $plane = envoy ]; then
      WEFT_JOIN_TOKEN="$tok" "$WEFT" bootstrap envoy --node $plane-$mode --labels app=front,telemetry=$mode --control-plane 127.0.0.1:$xds \
        --outbound 127.0.0.1:$port --admin 127.0.0.1:$admin > "$W/$plane-$mode.yaml"
      "$ENVOY" -c "$W/$plane-$mode.yaml" --concurrency 1 -l error --disable-hot-restart --base-id $((port % 100)) > "$W/$plane-$mode.log" 2>&1 & PIDS+=($!)
    else
      WEFT_JOIN_TOKEN="$tok" "$WEFT" proxy --node $plane-$mode --labels app=front,telemetry=$mode --control-plane 127.0.0.1:$xds \
        --outbound 127.0.0.1:$port --admin 127.0.0.1:$admin --concurrency 1 2>"$W/$plane-$mode.log" & PIDS+=($!)
    fi
    PID[$plane-$mode]=$!
  done
done
declare -A RPS P50 P99 ALL
measure() { # name port
  local n=$1 p=$2
  for _ in $(seq 200); do [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: bench' "http://127.0.0.1:$p/")" = 200 ] && break; sleep 0.1; done
  local code; code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: bench' "http://127.0.0.1:$p/")
  [ "$code" = 200 ] || { echo "$n answers $code"; tail -5 "$W"/control-*.log; exit 1; }
  # PERF_TARGET=weft-on PERF_OUT=file: a CPU profile of that sidecar during its first wrk run.
  if [[ "${PERF_TARGET:-}" == "$n" && ! -e "${PERF_OUT:-/nonexistent}" ]]; then
    perf record -g -p "${PID[$n]}" -o "$PERF_OUT" -- sleep "$D" >/dev/null 2>&1 &
  fi
  wrk -t1 -c32 -d${D}s -H "Host: bench" "http://127.0.0.1:$p/" > "$W/wrk-$n.txt" 2>&1
  RPS[$n]=$(awk '/Requests\/sec/{print $2}' "$W/wrk-$n.txt")
  if grep -q "Non-2xx" "$W/wrk-$n.txt"; then echo "$n: $(grep Non-2xx "$W/wrk-$n.txt")"; exit 1; fi
  local lat
  lat=$(hey -z ${D}s -c 10 -q 100 -host bench "http://127.0.0.1:$p/" 2>/dev/null | awk '/50%? in/{p50=$3} /99%? in/{p99=$3} END{printf "%.3f %.3f", p50*1000, p99*1000}')
  P50[$n]=${lat% *}; P99[$n]=${lat#* }
  printf "%-10s max_rps=%-10s p50_ms@1k=%-7s p99_ms@1k=%s\n" "$n" "${RPS[$n]}" "${P50[$n]}" "${P99[$n]}"
}
for round in 1 2 3; do
  for n in envoy-off envoy-on weft-off weft-on; do
    measure $n ${OUT[$n]}
    ALL[$n]+="${RPS[$n]:-0} ${P50[$n]:-0} ${P99[$n]:-0};"
  done
done
# The "on" sidecars really log and trace.
sleep 6
for plane in envoy weft; do
  lines=$(wc -l < "$W/access-$plane.log" 2>/dev/null || echo 0)
  echo "$plane-on: $lines access log lines"
  [ "$lines" -gt 1000 ] || echo "WARNING: $plane-on wrote only $lines access log lines"
done
echo "spans received: $(cat "$W/otlp.spans")"
median() { tr ';' '\n' <<< "${ALL[$1]}" | awk -v c=$2 'NF{print $c}' | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
cost() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a+0>0 && b+0>0) printf "%.1f%%", (1-b/a)*100; else print "-" }'; }
diffms() { awk -v a="$1" -v b="$2" 'BEGIN{ printf "%.3f", b-a }'; }
echo
for n in envoy-off envoy-on weft-off weft-on; do
  printf "median %-10s max_rps=%-10s p50_ms=%-7s p99_ms=%s\n" $n "$(median $n 1)" "$(median $n 2)" "$(median $n 3)"
done
for plane in envoy weft; do
  echo "$plane: throughput cost of access logs + 1% tracing $(cost "$(median $plane-off 1)" "$(median $plane-on 1)"), added p99 $(diffms "$(median $plane-off 3)" "$(median $plane-on 3)") ms"
done
# Memory of distinct label sets: a weft proxy inbound sidecar, callers that name themselves with distinct peer
# headers (each a new source_workload), RSS after each step.
WEFT_JOIN_TOKEN="$tok" "$WEFT" proxy --node labels --labels app=bench --control-plane 127.0.0.1:18220 --inbound 127.0.0.1:18299=127.0.0.1:18280 \
  --admin 127.0.0.1:18998 --concurrency 1 2>"$W/labels.log" & LPID=$!; PIDS+=($LPID)
for _ in $(seq 200); do [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18299/)" = 200 ] && break; sleep 0.1; done
rss() { awk '/VmRSS/{printf "%.1f", $2/1024}' /proc/$1/status; }
declare -A MEM
MEM[0]=$(rss $LPID)
"$PY" - <<'PY' "$W/mem.txt" $LPID
import sys, requests
out, pid = sys.argv[1], sys.argv[2]
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
s = requests.Session()
done = 0
with open(out, "w") as f:
    for target in (1000, 10000, 20000):
        while done < target:
            s.get("http://127.0.0.1:18299/", headers={"x-weft-peer-metadata": f"workload=caller-{done};namespace=bench;app=caller-{done};version=v1"})
            done += 1
        f.write(f"{target} {rss():.1f}\n")
PY
while read -r k v; do MEM[$k]=$v; done < "$W/mem.txt"
series=$(curl -s http://127.0.0.1:18998/stats/prometheus | grep -c '^istio_requests_total{' || true)
overflow=$(curl -s http://127.0.0.1:18998/stats/prometheus | awk '/^weft_istio_series_overflow_total/{print $2}')
echo "weft proxy RSS by distinct label sets: 0: ${MEM[0]} MiB, 1000: ${MEM[1000]} MiB, 10000: ${MEM[10000]} MiB, 20000: ${MEM[20000]} MiB (series kept: $series, overflowed: $overflow)"
if [ "$RECORD" = --record ]; then
  {
    echo
    echo "## $(date -u +%Y-%m-%d) — telemetry cost (bench/telemetry.sh), $(nproc) cores, ${D}s per run, median of 3 alternating runs"
    echo
    echo "One sidecar per data plane in front of nginx (1 KiB). off: standard metrics only (always on in weft proxy; Envoy's stats); on: plus an access log to a file and 1% tracing over OTLP/gRPC to a real receiver, switched by a Telemetry selecting the sidecar."
    echo
    echo "| target | max rps (wrk -c32) | p50 ms @1k rps | p99 ms @1k rps |"
    echo "| --- | --- | --- | --- |"
    for n in envoy-off envoy-on weft-off weft-on; do echo "| $n | $(median $n 1) | $(median $n 2) | $(median $n 3) |"; done
    echo
    for plane in envoy weft; do
      echo "- $plane: throughput cost of access logs + 1% tracing $(cost "$(median $plane-off 1)" "$(median $plane-on 1)"); added p99 $(diffms "$(median $plane-off 3)" "$(median $plane-on 3)") ms."
    done
    echo "- weft/envoy with telemetry on: max rps $(awk -v a="$(median weft-on 1)" -v b="$(median envoy-on 1)" 'BEGIN{printf "%.2f", a/b}')."
    echo "- weft proxy RSS by distinct label sets of the standard metrics: none ${MEM[0]} MiB, 1,000 ${MEM[1000]} MiB, 10,000 ${MEM[10000]} MiB, 20,000 ${MEM[20000]} MiB (series kept $series, requests in the overflow series $overflow)."
  } >> docs/BENCHMARKS.md
  echo "recorded in docs/BENCHMARKS.md"
fi
