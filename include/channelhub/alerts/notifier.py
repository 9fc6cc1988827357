"""The failure notifier every hub task carries: the smtp provider's ``SmtpNotifier``.

The operators' address is the Airflow Variable ``channelhub_operators_email``, read when
the alert is sent (a template), never while DAGs are parsed. A tenant's own email is the
run report; this one goes to the people who run the hub, with the task, the try and a link
to its log.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.smtp.notifications.smtp import SmtpNotifier

OPERATORS_VARIABLE = "channelhub_operators_email"
#: Where the task logs are when no UI serves them (``make demo`` runs ``airflow dags test``,
#: whose UI link would point at a port that is gone); unset, the alert links to the UI's log.
LOG_HINT_VARIABLE = "channelhub_log_hint"

SUBJECT = "[Channel Hub alert] {{ ti.dag_id }}.{{ ti.task_id }} failed ({{ ti.run_id }})"
BODY = (
    "<p>Task <b>{{ ti.task_id }}</b> of DAG <b>{{ ti.dag_id }}</b> failed on try {{ ti.try_number }}.</p>\n"
    "<p>Run: {{ ti.run_id }}<br>Logical date: {{ logical_date }}<br>\n"
    "Error: {% if exception is defined and exception %}{{ exception | string | e }}{% else %}the task did not "
    "end in its own process (killed, lost, or it could not start): see the log{% endif %}</p>\n"
    '{% set hint = var.value.get("' + LOG_HINT_VARIABLE + '", "") %}'
    '<p>{% if hint %}{{ hint | e }}{% else %}<a href="{{ ti.log_url }}">Task log</a>{% endif %}</p>\n'
)


class OperatorAlert:
    """A failure callback that sends each failure through a fresh ``SmtpNotifier``.

    A notifier renders its templates in place: one instance shared by every task through
    ``default_args`` sent the first failed task's subject and error for every later one.
    A failure the scheduler or dag-processor reports for a task that died outside its own
    process has no ``exception`` in its context; the body says so instead of failing to render.
    """

    def __init__(self, smtp_conn_id: str):
        self.smtp_conn_id = smtp_conn_id

    def notifier(self) -> SmtpNotifier:
        return SmtpNotifier(smtp_conn_id=self.smtp_conn_id, to="{{ var.value." + OPERATORS_VARIABLE + " }}",
                            subject=SUBJECT, html_content=BODY)

    def __call__(self, context: Any) -> None:
        self.notifier()(context)


def operator_alert(smtp_conn_id: str) -> OperatorAlert:
    return OperatorAlert(smtp_conn_id)
