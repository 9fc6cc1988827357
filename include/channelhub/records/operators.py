"""The maintenance DAG's operator: the retention purge of one hub database."""

from __future__ import annotations

from typing import Any

from channelhub.config.retention import Retention
from channelhub.hubdb.hook import HubDbHook
from channelhub.hubdb.migrate import require_current
from channelhub.operators import HubOperator
from channelhub.records.retention import purge


class PurgeRecordsOperator(HubOperator):
    """Purges what is past retention in one hub database; returns (and logs) what it removed.

    ``retention``: client or tenant -> its retention (JSON), as the DAG file read the config;
    everyone else gets the defaults."""

    ui_color = "#fce4ec"

    def __init__(self, *, hub_db_conn_id: str, retention: dict[str, dict[str, int]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hub_db_conn_id = hub_db_conn_id
        self.retention = retention

    def run(self, context: Any) -> dict[str, int]:
        owners = {owner: Retention.model_validate(spec) for owner, spec in self.retention.items()}
        with HubDbHook(self.hub_db_conn_id).engine() as engine:
            require_current(engine)
            removed = purge(engine, owners).as_dict()
        for what, rows in removed.items():
            self.log.info("%-32s %d row(s)", what, rows)
        return removed
