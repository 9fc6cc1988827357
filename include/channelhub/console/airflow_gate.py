"""The console's gate on Airflow's api-server: the caller is who Airflow's auth manager says
(the UI's session cookie or a bearer token), and may read or edit the records of exactly the
DAGs the auth manager lets them read (GET) or edit (PUT)."""

from __future__ import annotations

import asyncio

from fastapi import HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials

from channelhub.exceptions import ConsoleRefused
from channelhub.records.actions import Actor


class AirflowGate:
    """Authenticates and authorizes through the api-server's auth manager."""

    def actor(self, request: Request) -> Actor:
        from airflow.api_fastapi.app import get_auth_manager
        from airflow.api_fastapi.core_api.security import get_user

        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        bearer = HTTPAuthorizationCredentials(scheme=scheme, credentials=token) if token else None
        try:
            user = asyncio.run(get_user(request, None, bearer))
        except HTTPException as exc:
            raise ConsoleRefused(exc.status_code, "login", "log in to Airflow first") from None
        manager = get_auth_manager()
        everything = self._all_dag_ids()
        readable = manager.get_authorized_dag_ids(user=user, method="GET")
        editable = manager.get_authorized_dag_ids(user=user, method="PUT")
        return Actor(user.get_name(), None if readable >= everything else readable,
                     None if editable >= everything else editable)

    @staticmethod
    def _all_dag_ids() -> set[str]:
        from airflow.models.dag import DagModel
        from airflow.utils.session import create_session

        with create_session() as session:
            return {dag_id for (dag_id,) in session.query(DagModel.dag_id)}
