"""The failure notifier every hub task carries: the smtp provider's ``SmtpNotifier``.

The operators' address is the Airflow Variable ``channelhub_operators_email``, read when
the alert is sent (a template), never while DAGs are parsed. A tenant's own email is the
run report; this one goes to the people who run the hub, with the task, the try and a link
to its log.
"""

from __future__ import annotations

from airflow.providers.smtp.notifications.smtp import SmtpNotifier

OPERATORS_VARIABLE = "channelhub_operators_email"

SUBJECT = "[Channel Hub alert] {{ ti.dag_id }}.{{ ti.task_id }} failed ({{ ti.run_id }})"
BODY = """\
<p>Task <b>{{ ti.task_id }}</b> of DAG <b>{{ ti.dag_id }}</b> failed on try {{ ti.try_number }}.</p>
<p>Run: {{ ti.run_id }}<br>Logical date: {{ logical_date }}<br>
Error: {{ exception | string | e if exception else "see the log" }}</p>
<p><a href="{{ ti.log_url }}">Task log</a></p>
"""


def operator_alert(smtp_conn_id: str) -> SmtpNotifier:
    return SmtpNotifier(
        smtp_conn_id=smtp_conn_id,
        to="{{ var.value." + OPERATORS_VARIABLE + " }}",
        subject=SUBJECT,
        html_content=BODY,
    )
