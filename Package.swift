// swift-tools-version: 6.1
// Weft: a service mesh in Swift. See ARCHITECTURE.md for the layers and the two flows.
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "weft",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "weft", targets: ["weft"]),
        .executable(name: "weft-sample", targets: ["weft-sample"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        // Already built for grpc-swift-nio-transport's TLS; Weft's CA and mTLS use them directly.
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // Sources/ is grouped by plane: Shared (both planes), Control, Proxy, Mesh (one-machine mesh and the demo
        // shop), CLI. Layers (L0 lowest) as in ARCHITECTURE.md; scripts/check-layering.sh checks the imports.
        // L0
        .target(name: "WeftCore", path: "Sources/Shared/WeftCore", swiftSettings: strict),
        .target(name: "WeftTraffic", dependencies: ["WeftCore"], path: "Sources/Shared/WeftTraffic", swiftSettings: strict),
        .target(
            name: "WeftJWT",
            dependencies: [
                "WeftCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            path: "Sources/Shared/WeftJWT", swiftSettings: strict
        ),
        .target(
            name: "EnvoyAPI",
            dependencies: [
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            ],
            path: "Sources/Shared/EnvoyAPI", swiftSettings: strict
        ),
        .target(
            name: "WeftHTTPServer",
            dependencies: [
                "WeftCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/Shared/WeftHTTPServer", swiftSettings: strict
        ),
        .target(
            name: "WeftHTTPClient",
            dependencies: [
                "WeftCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/Shared/WeftHTTPClient", swiftSettings: strict
        ),
        // L1
        .target(
            name: "WeftConfig",
            dependencies: ["WeftCore", "WeftJWT", .product(name: "Yams", package: "Yams")],
            path: "Sources/Control/WeftConfig", swiftSettings: strict
        ),
        .target(name: "WeftModel", dependencies: ["WeftCore", "WeftConfig"], path: "Sources/Control/WeftModel", swiftSettings: strict),
        // L2
        .target(
            name: "XDSTranslation",
            dependencies: ["WeftCore", "WeftConfig", "WeftModel", "EnvoyAPI", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Sources/Control/XDSTranslation", swiftSettings: strict
        ),
        .target(name: "ProxyConfig", dependencies: ["WeftCore", "WeftJWT"], path: "Sources/Proxy/ProxyConfig", swiftSettings: strict),
        .target(
            name: "ProxyRouting",
            dependencies: ["ProxyConfig", "WeftCore", "WeftJWT"],
            path: "Sources/Proxy/ProxyRouting", swiftSettings: strict
        ),
        // L3
        .target(
            name: "WeftRegistry",
            dependencies: ["WeftCore", "WeftConfig", "WeftModel", .product(name: "Logging", package: "swift-log")],
            path: "Sources/Control/WeftRegistry", swiftSettings: strict
        ),
        .target(
            name: "WeftCA",
            dependencies: [
                "WeftCore",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            path: "Sources/Control/WeftCA", swiftSettings: strict
        ),
        .target(
            name: "XDSServer",
            dependencies: [
                "WeftCore", "WeftModel", "XDSTranslation", "EnvoyAPI",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Control/XDSServer", swiftSettings: strict
        ),
        .target(
            name: "ProxyUpstream",
            dependencies: [
                "ProxyConfig", "WeftCore",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/Proxy/ProxyUpstream", swiftSettings: strict
        ),
        .target(
            name: "ProxyHTTP",
            dependencies: [
                "ProxyConfig", "ProxyRouting", "ProxyUpstream", "WeftCore",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/Proxy/ProxyHTTP", swiftSettings: strict
        ),
        .target(
            name: "XDSClient",
            dependencies: [
                .product(name: "NIOPosix", package: "swift-nio"),
                "WeftCore", "WeftJWT", "EnvoyAPI", "ProxyConfig", "ProxyRouting",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Proxy/XDSClient", swiftSettings: strict
        ),
        .target(
            name: "ProxyIdentity",
            dependencies: [
                "ProxyUpstream", "XDSClient", "EnvoyAPI", "WeftCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Proxy/ProxyIdentity", swiftSettings: strict
        ),
        // L4
        .target(
            name: "WeftProxy",
            dependencies: [
                "ProxyHTTP", "ProxyConfig", "ProxyRouting", "ProxyUpstream", "WeftHTTPServer", "WeftHTTPClient", "WeftCore", "XDSClient",
                "ProxyIdentity", "EnvoyAPI",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Proxy/WeftProxy", swiftSettings: strict
        ),
        .target(
            name: "WeftControl",
            dependencies: [
                "WeftCore", "WeftConfig", "WeftModel", "WeftRegistry", "XDSServer", "WeftHTTPServer", "WeftHTTPClient", "WeftCA", "WeftTraffic",
                "EnvoyAPI", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Control/WeftControl", swiftSettings: strict
        ),
        .target(name: "WeftMesh", dependencies: ["WeftCore", "WeftConfig", "WeftModel"], path: "Sources/Mesh/WeftMesh", swiftSettings: strict),
        .target(
            name: "WeftSample",
            dependencies: ["WeftCore", "WeftHTTPServer", "WeftHTTPClient", .product(name: "NIOPosix", package: "swift-nio")],
            path: "Sources/Mesh/WeftSample", swiftSettings: strict
        ),
        .target(
            name: "WeftCLI",
            dependencies: [
                "WeftCore", "WeftConfig", "WeftModel", "WeftControl", "XDSServer", "WeftProxy", "ProxyIdentity", "WeftMesh", "WeftHTTPClient", "WeftSample", "WeftTraffic",
                "XDSTranslation", "XDSClient", "ProxyConfig", "ProxyRouting", "EnvoyAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/CLI/WeftCLI", swiftSettings: strict
        ),
        // L5
        .executableTarget(name: "weft", dependencies: ["WeftCLI"], path: "Sources/CLI/weft", swiftSettings: strict),
        .executableTarget(name: "weft-sample", dependencies: ["WeftSample"], path: "Sources/CLI/weft-sample", swiftSettings: strict),
        .testTarget(name: "WeftConfigTests", dependencies: ["WeftConfig", "WeftCore"], swiftSettings: strict),
        .testTarget(
            name: "XDSTranslationTests",
            dependencies: ["XDSTranslation", "WeftModel", "WeftConfig", "WeftCore", "EnvoyAPI", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "XDSServerTests",
            dependencies: ["XDSServer", "XDSTranslation", "WeftModel", "WeftConfig", "WeftCore", "EnvoyAPI", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "XDSClientTests",
            dependencies: [
                "XDSClient", "ProxyConfig", "ProxyRouting", "WeftCore", "EnvoyAPI", "WeftConfig", "WeftModel", "XDSTranslation", "XDSServer",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ProxyHTTPTests",
            dependencies: ["ProxyHTTP", "ProxyConfig", "ProxyRouting", "ProxyUpstream", "WeftCore", "WeftJWT",
                           .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "X509", package: "swift-certificates"),
                           .product(name: "Crypto", package: "swift-crypto"), .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOHTTP2", package: "swift-nio-http2"), .product(name: "NIOHPACK", package: "swift-nio-http2"),
                           .product(name: "NIOHTTP1", package: "swift-nio")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ProxyUpstreamTests",
            dependencies: ["ProxyUpstream", "ProxyConfig", .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOHTTP2", package: "swift-nio-http2"), .product(name: "NIOHPACK", package: "swift-nio-http2")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ProxyRoutingTests",
            dependencies: ["ProxyRouting", "ProxyConfig", "WeftCore", "WeftJWT", .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "CryptoExtras", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .testTarget(name: "WeftCLITests", dependencies: ["WeftCLI", "WeftMesh", "WeftConfig", "WeftCore"], swiftSettings: strict),
        .testTarget(name: "WeftMeshTests", dependencies: ["WeftMesh", "WeftCore", "WeftModel"], swiftSettings: strict),
        .testTarget(
            name: "WeftCATests",
            dependencies: ["WeftCA", "WeftCore", .product(name: "X509", package: "swift-certificates"),
                           .product(name: "Crypto", package: "swift-crypto"), .product(name: "SwiftASN1", package: "swift-asn1")],
            swiftSettings: strict
        ),
        .testTarget(name: "WeftTrafficTests", dependencies: ["WeftTraffic", "WeftCore"], swiftSettings: strict),
        .testTarget(name: "WeftRegistryTests", dependencies: ["WeftRegistry", "WeftModel", "WeftConfig", "WeftCore"], swiftSettings: strict),
        .testTarget(
            name: "WeftJWTTests",
            dependencies: ["WeftJWT", "WeftCore", .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "CryptoExtras", package: "swift-crypto")],
            swiftSettings: strict
        ),
    ]
)
