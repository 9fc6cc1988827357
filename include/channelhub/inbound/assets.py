"""Marking a channel job's ledger asset from the api-server, so the job runs soon after a push.

This runs inside Airflow's api-server process (the plugin), where Airflow's own asset
manager records the event and queues the consuming DAG, as ``POST /api/v2/assets/events``
does. An asset the dag-processor has not registered yet (a brand-new client) is skipped
with a warning: the job's schedule still picks the documents up.
"""

from __future__ import annotations

import logging

from channelhub.config.clients import ChannelJobName
from channelhub.ledger.asset import ledger_asset

log = logging.getLogger(__name__)


def mark_ledger_assets(client: str, jobs: set[ChannelJobName]) -> None:
    from airflow.assets.manager import asset_manager
    from airflow.models.asset import AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        for job in sorted(jobs):
            asset = ledger_asset(client, job)
            model = session.scalar(select(AssetModel).where(AssetModel.name == asset.name,
                                                            AssetModel.uri == asset.uri))
            if model is None:
                log.warning("Asset %s is not registered yet; %s runs on its schedule", asset.uri, job.value)
                continue
            asset_manager.register_asset_change(asset=model, extra={"source": "channelhub inbound API"},
                                                source_is_api=True, session=session)
