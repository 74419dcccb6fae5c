/// The bundled sample application of `weft demo`: a small book shop of `weft sample` processes (front page,
/// details, reviews v1/v2/v3, ratings, a load generator), its Istio config and recipes. `weft demo --export DIR`
/// writes these files (examples/shop is that output).
enum DemoShop {
    static let mesh = """
    # The Weft demo shop: `weft up -f mesh.yaml` (or just `weft demo`). See docs/mesh-yaml.md.
    config: istio
    services:
    - {name: front, version: v1, command: weft sample front, port: 9080}
    - {name: details, version: v1, command: weft sample details, port: 9080}
    - {name: reviews, version: v1, command: weft sample reviews, port: 9080}
    - {name: reviews, version: v2, command: weft sample reviews, port: 9080}
    - {name: reviews, version: v3, command: weft sample reviews, port: 9080}
    - {name: ratings, version: v1, command: weft sample ratings, port: 9080}
    - name: loadgen
      command: weft sample loadgen
      port: 9080
      env: {WEFT_LOAD_URL: "http://front:9080/api", WEFT_LOAD_RPS: "5"}

    """

    static let istio: [(String, String)] = [("reviews.yaml", """
    # Every request to reviews goes to v1 until a recipe says otherwise.
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: {name: reviews, namespace: default}
    spec:
      host: reviews
      subsets:
      - {name: v1, labels: {version: v1}}
      - {name: v2, labels: {version: v2}}
      - {name: v3, labels: {version: v3}}
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: reviews, namespace: default}
    spec:
      hosts: [reviews]
      http:
      - name: stable
        route:
        - destination: {host: reviews, subset: v1}

    """)]

    static let recipes: [(String, String)] = [
        ("canary-10.yaml", """
        # Canary: 10% of reviews traffic to v3 (red stars), the rest stays on v1.
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - name: canary
            route:
            - destination: {host: reviews, subset: v1}
              weight: 90
            - destination: {host: reviews, subset: v3}
              weight: 10

        """),
        ("header-jason.yaml", """
        # Header routing: the user jason (header end-user: jason, set by the front page's ?user=jason) sees v2.
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - name: jason-on-v2
            match:
            - headers:
                end-user: {exact: jason}
            route:
            - destination: {host: reviews, subset: v2}
          - name: stable
            route:
            - destination: {host: reviews, subset: v1}

        """),
        ("fault-ratings.yaml", """
        # Fault injection: half of the calls to ratings fail with 503; reviews v2/v3 show "ratings are unavailable".
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: ratings, namespace: default}
        spec:
          hosts: [ratings]
          http:
          - name: drill
            fault:
              abort: {httpStatus: 503, percentage: {value: 50}}
            route:
            - destination: {host: ratings}

        """),
        ("rollback.yaml", """
        # Roll back: everything on reviews v1 again (and delete the ratings drill: weft delete vs ratings).
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - name: stable
            route:
            - destination: {host: reviews, subset: v1}

        """),
    ]

    /// Every file, by path relative to the shop folder.
    static var files: [(String, String)] {
        [("mesh.yaml", mesh)] + istio.map { ("istio/\($0.0)", $0.1) } + recipes.map { ("recipes/\($0.0)", $0.1) }
    }
}
