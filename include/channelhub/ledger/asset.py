"""The Airflow asset of a client's channel job: marked whenever documents for that job enter the ledger."""

from __future__ import annotations

from airflow.sdk import Asset

from channelhub.config.clients import ChannelJobName


def ledger_asset(client: str, job: ChannelJobName) -> Asset:
    name = job.value.lower()
    return Asset(name=f"ledger__{client}__{name}", uri=f"channelhub://ledger/{client}/{name}")
