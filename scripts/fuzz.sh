#!/usr/bin/env bash
# Fuzzing with libFuzzer (Swift on Linux: -sanitize=fuzzer), as Envoy does with OSS-Fuzz.
#   scripts/fuzz.sh [seconds per target]     default 300; the test command runs it with 20
# Targets (fuzz/*.swift), each built against coverage-instrumented modules in .build-fuzz:
#   config-decoder   any bytes as a config file: YAML/JSON loader, decoder, every validator
#   xds-conversion   any bytes as one xDS resource (first byte picks the type): weft proxy's conversion and
#                    snapshot assembly (XDSClient's conversion sources, compiled into the harness)
#   http-request     any bytes as what a client sends to an HTTP listener (first byte: HTTP/1 or HTTP/2, read
#                    size): weft proxy's whole downstream pipeline on embedded channels, an upstream answering
# Every input in fuzz/regressions/<target>/ (crashes found before) is replayed first; a new crash is saved under
# .build-fuzz/crashes/<target>/ and fails the run: copy it into fuzz/regressions/<target>/ with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-300}
D=.build-fuzz/debug
LIBFUZZER_CHECK=$(find "$(dirname "$(dirname "$(command -v swiftc)")")/lib/clang" -name 'libclang_rt.fuzzer-x86_64.a' 2>/dev/null | head -1)
[[ -n "$LIBFUZZER_CHECK" ]] || { echo "fuzz: this Swift toolchain has no libFuzzer runtime" >&2; exit 1; }

build() {  # target name, harness file, modules to link
  local name=$1 harness=$2; shift 2
  swift build --target "$1" --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer >/dev/null 2>&1 \
    || swift build --target "$1" --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer
  local objects=()
  for m in "$@"; do [[ -d "$D/$m.build" ]] && mapfile -t -O "${#objects[@]}" objects < <(find "$D/$m.build" -name '*.o'); done
  swiftc -sanitize=fuzzer -parse-as-library -swift-version 6 "$harness" -I "$D/Modules" \
    -I .build-fuzz/checkouts/Yams/Sources/CYaml/include "${objects[@]}" -o "$D/$name"
}

build_sources() {  # target name, harness file, "modules to build", "modules to link", sources compiled in
  local name=$1 harness=$2 build_modules=$3 link_modules=$4; shift 4
  for m in $build_modules; do
    swift build --target "$m" --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer >/dev/null 2>&1 \
      || swift build --target "$m" --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer
  done
  local objects=()
  # The ADS service stubs are left out: the harness calls no gRPC.
  for m in $link_modules; do [[ -d "$D/$m.build" ]] && mapfile -t -O "${#objects[@]}" objects < <(find "$D/$m.build" -name '*.o' ! -name '*.grpc.swift.o'); done
  swiftc -sanitize=fuzzer -parse-as-library -swift-version 6 -module-name "${name//-/_}" "$harness" "$@" -I "$D/Modules" \
    "${objects[@]}" -o "$D/$name"
}

run() {  # target name, seed folders...
  local name=$1; shift
  local corpus=".build-fuzz/corpus/$name" crashes=".build-fuzz/crashes/$name"
  mkdir -p "$corpus" "$crashes" "fuzz/regressions/$name"
  if compgen -G "fuzz/regressions/$name/*" >/dev/null; then
    "$D/$name" -runs=0 fuzz/regressions/"$name"/* >/dev/null 2>&1 || { echo "fuzz $name: a regression input fails again" >&2; exit 1; }
  fi
  echo "fuzz $name: ${SECONDS_PER_TARGET}s"
  "$D/$name" -max_total_time="$SECONDS_PER_TARGET" -max_len=8192 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$crashes/" -print_final_stats=1 "$corpus" "$@" 2>&1 | grep -E '^(stat::number_of_executed_units|Done|==[0-9]+==|SUMMARY|.*deadly signal)' || true
  if compgen -G "$crashes/*" >/dev/null; then
    echo "fuzz $name: crash inputs in $crashes:" >&2; ls "$crashes" >&2; exit 1
  fi
}

# WeftJWT (JWKS checks in validation, the proxy's JWT filter) and the swift-crypto modules under it.
CRYPTO="WeftJWT Crypto CryptoExtras _CryptoExtras CryptoBoringWrapper CCryptoBoringSSL CCryptoBoringSSLShims CXKCP CXKCPShims SwiftASN1"
build config-decoder fuzz/ConfigDecoderFuzz.swift WeftConfig WeftCore Yams CYaml $CRYPTO
seeds=$(mktemp -d); trap 'rm -rf "$seeds"' EXIT
find examples tests/e2e -name '*.yaml' -size -8k -exec cp {} "$seeds/" \; 2>/dev/null || true
run config-decoder "$seeds"
build_sources xds-conversion fuzz/XDSConversionFuzz.swift "ProxyRouting EnvoyAPI" "EnvoyAPI ProxyConfig ProxyRouting WeftCore SwiftProtobuf $CRYPTO" \
  Sources/Proxy/XDSClient/XDSClient.swift Sources/Proxy/XDSClient/XDSConversion*.swift Sources/Proxy/XDSClient/SnapshotAssembler.swift
run xds-conversion
# The proxy's pipeline and everything under it (NIO, NIOHTTP1/2, collections, atomics), instrumented.
for m in ProxyHTTP NIOEmbedded; do
  swift build --target "$m" --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer >/dev/null 2>&1 \
    || swift build --target "$m" --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer
done
http_objects=()
for m in ProxyHTTP ProxyUpstream ProxyRouting ProxyConfig WeftCore NIOEmbedded NIOHTTP2 NIOHPACK NIOHTTP1 NIOPosix NIOCore \
         NIOConcurrencyHelpers _NIODataStructures _NIOBase64 CNIOLinux CNIOPosix CNIODarwin CNIOWindows CNIOLLHTTP \
         CNIOAtomics NIOTLS DequeModule ContainersPreview InternalCollectionsUtilities Atomics _AtomicsShims \
         NIOSSL CNIOBoringSSL CNIOBoringSSLShims Logging $CRYPTO; do
  [[ -d "$D/$m.build" ]] && mapfile -t -O "${#http_objects[@]}" http_objects < <(find "$D/$m.build" -name '*.o')
done
# The C modules under NIO and swift-atomics: SwiftPM's generated module maps, and those shipped in include/.
c_modules=()
for m in "$D"/CNIO*.build/module.modulemap; do c_modules+=(-Xcc "-fmodule-map-file=$m"); done
for inc in .build-fuzz/checkouts/swift-nio/Sources/CNIO*/include .build-fuzz/checkouts/swift-atomics/Sources/_AtomicsShims/include \
           .build-fuzz/checkouts/swift-nio-ssl/Sources/CNIOBoringSSL*/include; do
  [[ -f "$inc/module.modulemap" ]] && c_modules+=(-I "$inc")
done
swiftc -sanitize=fuzzer -parse-as-library -swift-version 6 fuzz/HTTPRequestFuzz.swift -I "$D/Modules" "${c_modules[@]}" \
  "${http_objects[@]}" -o "$D/http-request"
http_seeds=$(mktemp -d)
printf '\x00GET /r HTTP/1.1\r\nHost: reviews\r\n\r\nPOST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' > "$http_seeds/h1"
printf '\x08GET /direct/../%%2e%%2e//a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc' > "$http_seeds/h1-split"
# HTTP/2: SETTINGS, a GET on stream 1 (HPACK static :method GET, :scheme http, :path /, :authority a), its reset.
printf '\x41\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x06\x01\x05\x00\x00\x00\x01\x82\x86\x84\x41\x01\x61\x00\x00\x04\x03\x00\x00\x00\x00\x01\x00\x00\x00\x08' > "$http_seeds/h2"
run http-request "$http_seeds"
rm -rf "$http_seeds"
echo "fuzz: no crash"
