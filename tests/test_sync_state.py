"""The sync flows' marks and activity log in the hub database, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

from channelhub.hubdb.migrate import upgrade as upgrade_hub_db
from channelhub.sync.state import Activity, Scope, SyncState


def test_marks_are_kept_per_scope_and_replaced_in_place(engine):
    upgrade_hub_db(engine)
    client = f"c{uuid.uuid4().hex[:8]}"
    main, north = SyncState(engine, Scope(client, "web", "MAIN", "invex")), SyncState(engine, Scope(
        client, "web", "NORTH", "invex"))
    main.set_marks("stock", {f"sku{i}": "1" for i in range(1200)})  # more keys than one statement's chunk
    north.set_marks("stock", {"sku1": "7"})
    main.set_marks("stock", {"sku1": "6", "sku2": "0"})
    assert len(main.marks("stock")) == 1200 and main.marks("stock", ["sku1", "sku2"]) == {"sku1": "6", "sku2": "0"}
    assert north.marks("stock") == {"sku1": "7"} and main.marks("cursor") == {}


def test_the_activity_log_keeps_each_record_in_order_with_its_detail_cut(engine):
    upgrade_hub_db(engine)
    state = SyncState(engine, Scope(f"c{uuid.uuid4().hex[:8]}", "web", "MAIN", "order_sync"), "run-1")
    state.log([Activity("in", "SO-1", "RECEIVED", None, {"order_no": "SO-1", "note": "x" * 5000}),
               Activity("out", "SO-1", "HELD", "product(s) not in Tryton: 999")])
    rows = state.activity()
    assert [(r["direction"], r["status"]) for r in rows] == [("in", "RECEIVED"), ("out", "HELD")]
    assert len(rows[0]["detail"]) == 2000 and rows[1]["message"].endswith("999") and rows[1]["run_id"] == "run-1"
