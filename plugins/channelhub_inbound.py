"""Airflow plugin: mounts Channel Hub's inbound push API on the api-server under ``/channelhub``.

The code lives in the ``channelhub`` package; this file only registers it.
"""

from airflow.plugins_manager import AirflowPlugin

from channelhub.hubdb.hook import HubDbHook
from channelhub.inbound.app import create_app
from channelhub.inbound.assets import mark_ledger_assets


class ChannelHubInboundPlugin(AirflowPlugin):
    name = "channelhub_inbound"
    fastapi_apps = [{
        "app": create_app(lambda: HubDbHook().get_engine(), mark_ledger_assets),
        "url_prefix": "/channelhub",
        "name": "Channel Hub inbound API",
    }]
