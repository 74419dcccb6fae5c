extension DashboardPage {
    static let script = #"""
    <script>
    "use strict";
    const SVGNS = "http://www.w3.org/2000/svg";
    const params = new URLSearchParams(location.hash.slice(1));
    const token = params.get("token") || sessionStorage.getItem("weft-token") || "";
    if (token) sessionStorage.setItem("weft-token", token);
    // `#token=...&service=reviews`: the service to show first (its name or host).
    let selected = params.get("service");
    if (params.has("token")) history.replaceState(null, "", location.pathname + (selected ? "#service=" + encodeURIComponent(selected) : ""));
    let state = null;

    async function api(path) {
      const r = await fetch(path, {headers: token ? {Authorization: "Bearer " + token} : {}});
      if (!r.ok) throw new Error(path + ": HTTP " + r.status);
      return r.json();
    }
    const ms = v => v == null ? "-" : v.toFixed(1) + " ms";
    const pct = v => (v * 100).toFixed(1) + "%";
    const rate = v => v.toFixed(1);

    function h(tag, text, cls) {
      const e = document.createElement(tag);
      if (text != null) e.textContent = text;
      if (cls) e.className = cls;
      return e;
    }
    function s(tag, attrs, text) {
      const e = document.createElementNS(SVGNS, tag);
      for (const k in attrs) e.setAttribute(k, attrs[k]);
      if (text != null) e.textContent = text;
      return e;
    }
    function row(cells, onclick) {
      const tr = document.createElement("tr");
      for (const c of cells) {
        const td = document.createElement("td");
        if (c instanceof Node) td.appendChild(c); else td.textContent = c;
        tr.appendChild(td);
      }
      if (onclick) tr.addEventListener("click", onclick);
      return tr;
    }
    function fill(id, rows) {
      const body = document.querySelector("#" + id + " tbody");
      body.replaceChildren(...rows);
    }

    // Nodes: every service, and callers that are not a service's workload; edges merged per pair of nodes.
    function model(g) {
      const nodes = new Map(), edges = new Map();
      for (const sv of g.services) nodes.set("svc:" + sv.host, {id: "svc:" + sv.host, label: sv.name, sub: sv.versions.join(" "), host: sv.host});
      const byApp = new Map(g.services.map(sv => [sv.name + "." + sv.namespace, "svc:" + sv.host]));
      for (const e of g.edges) {
        const k = e.key;
        let from = byApp.get(k.sourceApp + "." + k.sourceNamespace);
        if (!from) {
          from = "wl:" + k.source + "." + k.sourceNamespace;
          if (!nodes.has(from)) nodes.set(from, {id: from, label: k.source, sub: k.sourceNamespace, caller: true});
        }
        const to = "svc:" + k.service;
        const key = from + ">" + to;
        const m = edges.get(key) || {from, to, rps: 0, errors: 0, p99: null, mtls: true};
        m.rps += e.rps;
        m.errors += e.rps * e.errorRate;
        if (e.p99 != null) m.p99 = Math.max(m.p99 || 0, e.p99);
        m.mtls = m.mtls && e.mtls;
        edges.set(key, m);
      }
      return {nodes: [...nodes.values()], edges: [...edges.values()]};
    }

    function layout(m) {
      const depth = new Map(m.nodes.map(n => [n.id, 0]));
      for (let i = 0; i < m.nodes.length; i++) {
        for (const e of m.edges) if (e.from !== e.to) depth.set(e.to, Math.max(depth.get(e.to), Math.min(depth.get(e.from) + 1, m.nodes.length)));
      }
      const columns = new Map();
      for (const n of m.nodes) {
        const d = depth.get(n.id);
        if (!columns.has(d)) columns.set(d, []);
        columns.get(d).push(n);
      }
      // Columns in depth order, spread over the width whatever the depths are (a cycle makes them large).
      const pos = new Map();
      const order = [...columns.keys()].sort((a, b) => a - b);
      const step = 820 / Math.max(1, order.length - 1);
      order.forEach((d, c) => {
        const list = columns.get(d).sort((a, b) => a.label.localeCompare(b.label));
        list.forEach((n, i) => pos.set(n.id, {x: 90 + c * step, y: 40 + (i + 0.5) * (380 / list.length)}));
      });
      return pos;
    }

    function drawGraph(g) {
      const svg = document.getElementById("graph");
      const m = model(g), pos = layout(m);
      svg.setAttribute("viewBox", "0 0 1000 460");
      const kids = [];
      const defs = s("defs", {});
      const marker = s("marker", {id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto"});
      marker.appendChild(s("path", {d: "M0,0 L10,5 L0,10 z", fill: "#4465c9"}));
      defs.appendChild(marker);
      kids.push(defs);
      for (const e of m.edges) {
        const a = pos.get(e.from), b = pos.get(e.to);
        if (!a || !b) continue;
        const bad = e.rps > 0 && e.errors / e.rps > 0.05;
        kids.push(s("line", {x1: a.x + 70, y1: a.y, x2: b.x - 70, y2: b.y, class: "edge" + (bad ? " bad" : "") + (e.mtls ? "" : " plain"),
                             "stroke-width": Math.min(6, 1 + Math.log10(1 + e.rps) * 2), "marker-end": "url(#arrow)"}));
        const label = rate(e.rps) + "/s · " + pct(e.rps > 0 ? e.errors / e.rps : 0) + " · p99 " + ms(e.p99);
        kids.push(s("text", {x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 - 6, class: "elabel", "text-anchor": "middle"}, label));
      }
      for (const n of m.nodes) {
        const p = pos.get(n.id);
        const gn = s("g", {class: "node" + (n.caller ? " caller" : "") + (n.host && n.host === selected ? " selected" : ""),
                           transform: "translate(" + (p.x - 70) + "," + (p.y - 20) + ")"});
        gn.appendChild(s("rect", {width: 140, height: 40}));
        gn.appendChild(s("text", {x: 70, y: 17}, n.label));
        gn.appendChild(s("text", {x: 70, y: 32, class: "muted"}, n.sub));
        if (n.host) gn.addEventListener("click", () => { selected = n.host; render(); });
        kids.push(gn);
      }
      svg.replaceChildren(...kids);
    }

    function drawDetail(g, routes) {
      const box = document.getElementById("detail");
      const sv = g.services.find(x => x.host === selected);
      if (!sv) { box.replaceChildren(h("h2", "Service"), h("div", "select a service", "muted")); return; }
      const parts = [h("h2", sv.name + " (" + sv.namespace + ")"), h("div", sv.host, "muted"),
        h("p", rate(sv.rps) + " requests/s, " + pct(sv.errorRate) + " errors, p50 " + ms(sv.p50) + ", p99 " + ms(sv.p99))];
      const byVersion = new Map();
      for (const e of g.edges) if (e.key.service === sv.host) byVersion.set(e.key.version, (byVersion.get(e.key.version) || 0) + e.rps);
      const vt = h("table");
      vt.appendChild(row(["version", "rps", "share"]));
      for (const [v, r] of [...byVersion].sort()) vt.appendChild(row([v, rate(r), sv.rps > 0 ? pct(r / sv.rps) : "-"]));
      parts.push(h("h3", "Traffic by version"), vt);
      const rt = h("table");
      rt.appendChild(row(["route", "destination", "weight"]));
      for (const r of routes.filter(r => r.hosts.some(x => x === sv.host || x === sv.name || sv.host.startsWith(x + "."))))
        for (const d of r.destinations) rt.appendChild(row([r.name, d.host + (d.subset ? " " + d.subset : ""), d.weight == null ? "100" : String(d.weight)]));
      parts.push(h("h3", "Routes in effect"), rt);
      const flags = Object.entries(sv.errorsByFlag || {}).sort((a, b) => b[1] - a[1]);
      parts.push(h("h3", "Recent errors by response flag"),
        h("div", flags.length ? flags.map(([f, v]) => f + " " + rate(v) + "/s").join(", ") : "none", flags.length ? "err" : "muted"));
      const ct = h("table");
      ct.appendChild(row(["caller", "version", "rps", "errors", "p99", "mTLS"]));
      for (const e of g.edges.filter(e => e.key.service === sv.host))
        ct.appendChild(row([e.key.source, e.key.version, rate(e.rps), pct(e.errorRate), ms(e.p99), e.mtls ? "yes" : "no"]));
      parts.push(h("h3", "Callers"), ct);
      box.replaceChildren(...parts);
    }

    // VirtualService http routes as (name, hosts, destinations with weights).
    function routesOf(resources) {
      const out = [];
      for (const r of resources) {
        const spec = r.spec || {};
        (spec.http || []).forEach((route, i) => out.push({
          name: r.namespace + "/" + r.name + (route.name ? " " + route.name : " #" + (i + 1)),
          hosts: spec.hosts || [],
          destinations: (route.route || []).map(d => ({host: (d.destination || {}).host || "?", subset: (d.destination || {}).subset, weight: d.weight}))
        }));
      }
      return out;
    }

    function render() {
      if (!state) return;
      const {graph, status, routes} = state;
      document.getElementById("meta").textContent = "config version " + status.version + " · " + graph.proxies + " proxies · window " +
        graph.windowSeconds.toFixed(0) + " s · updated " + new Date(graph.updatedAt * 1000).toLocaleTimeString();
      drawGraph(graph);
      fill("services", [...graph.services].sort((a, b) => b.rps - a.rps).map(sv => row([sv.name, sv.namespace, sv.versions.join(", ") || "-",
        rate(sv.rps), h("span", pct(sv.errorRate), sv.errorRate > 0.05 ? "err" : ""), ms(sv.p50), ms(sv.p99)], () => { selected = sv.host; render(); })));
      drawDetail(graph, routes);
      fill("proxies", (status.proxies || []).map(p => row([p.id, p.dataPlane || "-",
        !p.connected ? "disconnected" : (p.syncedVersion != null && p.syncedVersion >= status.version ? "synced" : "behind"),
        p.nack ? h("span", p.nack, "err") : "-"])));
    }

    async function refresh() {
      try {
        const [graph, status, vs] = await Promise.all([api("/api/v1/graph"), api("/api/v1/status"), api("/api/v1/resources?kind=VirtualService")]);
        state = {graph, status, routes: routesOf(vs.resources || [])};
        const named = graph.services.find(x => x.host === selected || x.name === selected);
        if (named) selected = named.host;
        else if (!selected && graph.services.length) selected = graph.services[0].host;
        document.getElementById("problem").textContent = "";
        render();
      } catch (e) {
        document.getElementById("problem").textContent = String(e.message) + (token ? "" : " (open the URL weft printed: it carries the token)");
      }
    }
    refresh();
    setInterval(refresh, 2000);
    </script>
    </body></html>

    """#
}
