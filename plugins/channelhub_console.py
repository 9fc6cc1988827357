"""Airflow plugin: the operations console, a "Channel Hub" entry in the UI's navigation and a
"Records" tab on every DAG, served by the console's backend under ``/channelhub-console``.

The code lives in the ``channelhub`` package; this file only registers it.
"""

from airflow.plugins_manager import AirflowPlugin

from channelhub.console.airflow_gate import AirflowGate
from channelhub.console.app import create_app
from channelhub.hubdb.hook import HubDbHook

PREFIX = "/channelhub-console"


class ChannelHubConsolePlugin(AirflowPlugin):
    name = "channelhub_console"
    fastapi_apps = [{"app": create_app(lambda: HubDbHook().get_engine(), AirflowGate()), "url_prefix": PREFIX,
                     "name": "Channel Hub console"}]
    external_views = [
        {"name": "Channel Hub", "href": f"{PREFIX}/", "destination": "nav", "url_route": "channelhub",
         "category": None},
        {"name": "Records", "href": f"{PREFIX}/?dag_id={{DAG_ID}}", "destination": "dag",
         "url_route": "channelhub_records"},
    ]
