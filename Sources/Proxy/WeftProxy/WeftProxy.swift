// WeftProxy: assembles `weft proxy`: the event loops with one Worker each, the listeners (bound and
// closed as LDS changes), the xDS client that feeds snapshots in, and the admin page. Async code is fine
// here; per-request work happens only in ProxyHTTP's handlers on the loops.
