"""The xDS cache at a small scale with real gRPC: many ADS streams in a few distinct proxy views are served one
translation per view per change, and every stream converges. bench/xds-scale.py runs the same check with
1,000 services and 500 clients."""

from __future__ import annotations

import pytest

from xds_load import service_entries


@pytest.mark.control_plane_only
def test_one_translation_per_view_per_change(mesh, report):
    from xds_load import scale_check
    m = mesh
    m.apply(service_entries(100))
    r = scale_check(m.api_url, m.xds_addr, m.cp.proc.popen.pid, m.apply, n_clients=60, n_scopes=3,
                    change=service_entries(1).replace("svc-0", "svc-new"), credentials=m.xds_credentials())
    report("60 ADS clients in 3 views, 100 services: first sync / change sync (s)",
           f"{r['first_sync_s']:.2f} / {r['change_sync_s']:.2f}")
    report("translations for the first sync / for one change (3 views)",
           f"{r['translations_first']} / {r['translations_change']}")
    assert not r["errors"], r["errors"]
    assert r["translations_first"] == 3, r
    assert r["translations_change"] == 3, r
