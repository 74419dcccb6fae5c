#!/usr/bin/env bash
# Checks the package's layering (ARCHITECTURE.md) from the sources themselves; run by scripts/test.sh.
# Fails when:
#   - a proxy-side module imports a control-plane module, or the other way round (they meet at EnvoyAPI/WeftCore);
#   - a module meant to be pure (no I/O) imports NIO, gRPC or another I/O library;
#   - a file of the CLI's proxy commands (`weft proxy`, `weft bootstrap envoy`) imports a control-plane module;
#   - a Swift file imports a module its target does not declare in Package.swift.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - "$@" <<'PY'
import re
import sys
from pathlib import Path

CONTROL = {"WeftConfig", "WeftModel", "XDSTranslation", "WeftRegistry", "XDSServer", "WeftControl", "WeftCA"}
PROXY = {"ProxyConfig", "ProxyRouting", "ProxyUpstream", "ProxyHTTP", "XDSClient", "WeftProxy", "ProxyIdentity"}
PURE = {"WeftCore", "WeftJWT", "WeftTraffic", "WeftConfig", "WeftModel", "XDSTranslation", "ProxyConfig", "ProxyRouting"}
# What a pure module may still import, by module (nothing today: ProxyRouting reads headers through ProxyConfig's
# HeaderLookup).
PURE_ALLOWED: dict[str, set[str]] = {}
IO = re.compile(r"^(NIO\w*|GRPC\w*|Logging|AsyncHTTPClient)$")
# The CLI's proxy commands: the `weft proxy` side of the executable.
PROXY_CLI_FILES = ["Sources/CLI/WeftCLI/ProxyCommand.swift", "Sources/CLI/WeftCLI/ProxyIdentityOptions.swift",
                   "Sources/CLI/WeftCLI/BootstrapCommand.swift", "Sources/CLI/WeftCLI/EnvoyBootstrap.swift"]
SYSTEM = {"Foundation", "FoundationEssentials", "Synchronization", "Dispatch", "Glibc", "Musl", "Darwin",
          "_Concurrency", "Testing", "XCTest", "CoreFoundation"}
IMPORT = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:public\s+|internal\s+|package\s+|private\s+)?import\s+"
                    r"(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?(\w+)", re.M)


def targets(package: str) -> dict[str, tuple[str, set[str]]]:
    """name -> (folder, declared dependencies) for every target in Package.swift."""
    out = {}
    for m in re.finditer(r"\.(target|executableTarget|testTarget)\(\s*name:\s*\"([^\"]+)\"", package):
        kind, name = m.group(1), m.group(2)
        # The target's text runs to the next target declaration.
        nxt = re.search(r"\.(?:target|executableTarget|testTarget)\(\s*name:", package[m.end():])
        body = package[m.end(): m.end() + nxt.start()] if nxt else package[m.end():]
        deps = set(re.findall(r"\.product\(\s*name:\s*\"([^\"]+)\"", body))
        dm = re.search(r"dependencies:\s*\[(.*?)\]\s*(?:,\s*(?:path|exclude|sources|resources|swiftSettings)|\))", body, re.S)
        if dm:
            deps |= set(re.findall(r"(?<!name:\s)\"([A-Za-z][\w-]*)\"", re.sub(r"\.product\([^)]*\)", "", dm.group(1))))
        path = re.search(r"path:\s*\"([^\"]+)\"", body)
        folder = path.group(1) if path else ("Tests/" if kind == "testTarget" else "Sources/") + name
        out[name] = (folder, deps)
    return out


def main() -> int:
    problems = []
    all_targets = targets(Path("Package.swift").read_text())
    for name, (folder, deps) in sorted(all_targets.items()):
        side = CONTROL if name in PROXY else PROXY if name in CONTROL else set()
        for dep in sorted(deps & side):
            problems.append(f"Package.swift: {name} depends on {dep}, across the proxy/control-plane line")
        for f in sorted(Path(folder).rglob("*.swift")):
            for mod in IMPORT.findall(f.read_text()):
                where = f"{f}: import {mod}"
                if mod not in deps and mod not in SYSTEM and mod != name:
                    problems.append(f"{where}: {name} does not declare {mod} in Package.swift")
                if name in PROXY and mod in CONTROL:
                    problems.append(f"{where}: a proxy module imports a control-plane module")
                if name in CONTROL and mod in PROXY:
                    problems.append(f"{where}: a control-plane module imports a proxy module")
                if name in PURE and IO.match(mod) and mod not in PURE_ALLOWED.get(name, set()):
                    problems.append(f"{where}: {name} is pure (no I/O) and must not import {mod}")
    for path in PROXY_CLI_FILES:
        f = Path(path)
        if f.exists():
            for mod in IMPORT.findall(f.read_text()):
                if mod in CONTROL:
                    problems.append(f"{f}: import {mod}: the proxy commands must not need the control plane")
    for p in problems:
        print(p)
    print(f"layering: {len(all_targets)} targets checked, {len(problems)} problems")
    return 1 if problems else 0


sys.exit(main())
PY
