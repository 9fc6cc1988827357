"""The base of every Channel Hub operator: where a hub error becomes what Airflow acts on, once.

An operator implements :meth:`HubOperator.run`; a :class:`ChannelHubError` it raises ends the
task as its kind says: a transient one (a partner that could not answer, records left
pending) fails the try so Airflow retries it; a final one (a refusal, a file with errors, a
config that cannot work) fails the task at once, without the retries it could not use, so
the operators' alert goes out now.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from channelhub.exceptions import ChannelHubError


def for_airflow(error: ChannelHubError) -> AirflowException:
    """What a task raises for ``error``: retried when it is transient, failed at once when final."""
    return (AirflowException if error.transient else AirflowFailException)(str(error))


class HubOperator(BaseOperator):
    """``execute`` runs :meth:`run` and maps the hub's errors to Airflow's."""

    def execute(self, context: Any) -> Any:
        try:
            return self.run(context)
        except ChannelHubError as exc:
            self.on_hub_error(exc, context)
            raise for_airflow(exc) from exc

    def run(self, context: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement run()")

    def on_hub_error(self, error: ChannelHubError, context: Any) -> None:
        """Called before the task fails for ``error``: an operator may record it where people look."""
