#!/usr/bin/env bash
# Regenerates Sources/Shared/EnvoyAPI/Generated/ from our trimmed Envoy v3 protos in Protos/.
#
# Needs protoc (3.21+, well-known types under /usr/include) and two plugins given by
# environment variables:
#   PROTOC_GEN_SWIFT       path to protoc-gen-swift          (swift-protobuf 1.39.0)
#   PROTOC_GEN_GRPC_SWIFT  path to protoc-gen-grpc-swift-2   (grpc-swift-protobuf 2.4.1)
# Build them once, outside this package, with
#   swift build --product protoc-gen-swift          (in a swift-protobuf checkout)
#   swift build --product protoc-gen-grpc-swift-2   (in a grpc-swift-protobuf checkout)
# That takes about ten minutes, so it is never done in CI: the generated code is committed,
# and this script is only run by hand after editing Protos/.
#
# Usage: PROTOC_GEN_SWIFT=... PROTOC_GEN_GRPC_SWIFT=... scripts/gen-protos.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

: "${PROTOC_GEN_SWIFT:?set PROTOC_GEN_SWIFT to the protoc-gen-swift binary}"
: "${PROTOC_GEN_GRPC_SWIFT:?set PROTOC_GEN_GRPC_SWIFT to the protoc-gen-grpc-swift-2 binary}"
PROTOC="${PROTOC:-protoc}"
WKT_INCLUDE="${WKT_INCLUDE:-/usr/include}"

out="Sources/Shared/EnvoyAPI/Generated"
rm -rf "$out"
mkdir -p "$out"

# All .proto files, as paths relative to Protos/, in a stable order.
mapfile -t protos < <(cd Protos && find . -name '*.proto' | sed 's|^\./||' | LC_ALL=C sort)

# Messages and enums for every file.
"$PROTOC" -I Protos -I "$WKT_INCLUDE" \
  --plugin=protoc-gen-swift="$PROTOC_GEN_SWIFT" \
  --swift_out="$out" \
  --swift_opt=Visibility=Public,FileNaming=PathToUnderscores \
  "${protos[@]}"

# gRPC service stubs: the Aggregated Discovery Service, Istio's certificate service and the
# OpenTelemetry OTLP trace export service.
"$PROTOC" -I Protos -I "$WKT_INCLUDE" \
  --plugin=protoc-gen-grpc-swift="$PROTOC_GEN_GRPC_SWIFT" \
  --grpc-swift_out="$out" \
  --grpc-swift_opt=Visibility=Public,Client=true,Server=true,FileNaming=PathToUnderscores \
  envoy/service/discovery/v3/ads.proto istio/security/v1alpha1/ca.proto \
  opentelemetry/proto/collector/trace/v1/trace_service.proto

echo "generated $(find "$out" -name '*.swift' | wc -l) files into $out"
