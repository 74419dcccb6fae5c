extension DashboardPage {
    static let head = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Weft mesh</title>
    <link rel="icon" href="data:,">

    """

    static let style = """
    <style>
    body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2433; background: #f6f7f9; }
    header { background: #1d2433; color: #fff; padding: 10px 20px; display: flex; gap: 24px; align-items: baseline; }
    header h1 { font-size: 18px; margin: 0; }
    header .meta { color: #b8c0d0; font-size: 13px; }
    main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(280px, 2fr); gap: 16px; padding: 16px 20px; }
    section { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 12px 14px; }
    section h2 { font-size: 15px; margin: 0 0 8px; }
    svg { width: 100%; height: 460px; }
    .node rect { fill: #eef3ff; stroke: #4465c9; rx: 6; }
    .node.caller rect { fill: #f3f3f3; stroke: #8a93a6; }
    .node.selected rect { stroke-width: 3; }
    .node text { font-size: 15px; text-anchor: middle; }
    .edge { stroke: #4465c9; fill: none; }
    .edge.bad { stroke: #d6336c; }
    .edge.plain { stroke-dasharray: 5 4; }
    .elabel { font-size: 14px; fill: #333; }
    table { border-collapse: collapse; width: 100%; font-size: 13px; }
    th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #eceff3; }
    tbody tr:hover { background: #f2f5fc; cursor: pointer; }
    .err { color: #d6336c; font-weight: 600; }
    .muted { color: #7a8294; }
    #problem { color: #d6336c; }
    </style>
    </head>

    """

    static let body = """
    <body>
    <header><h1>Weft mesh</h1><span class="meta" id="meta">loading…</span><span id="problem"></span></header>
    <main>
    <div>
    <section><h2>Service graph</h2><svg id="graph" role="img" aria-label="service graph"></svg>
    <div class="muted">edges: requests/s · errors · p99; red: more than 5% errors; dashed: not mTLS</div></section>
    <section><h2>Services</h2><table id="services"><thead><tr><th>service</th><th>namespace</th><th>versions</th>
    <th>rps</th><th>errors</th><th>p50</th><th>p99</th></tr></thead><tbody></tbody></table></section>
    </div>
    <div>
    <section id="detail"><h2>Service</h2><div class="muted">select a service</div></section>
    <section><h2>Proxies</h2><table id="proxies"><thead><tr><th>proxy</th><th>plane</th><th>sync</th><th>NACK</th></tr></thead>
    <tbody></tbody></table></section>
    </div>
    </main>

    """
}
