"""Operator alerts through the smtp provider's SmtpNotifier into a real local SMTP server.

The task instance in the context is a plain object with the fields the template reads (this
test renders alerts without running tasks; the e2e runs in test_dag_runs.py send real ones).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from airflow.sdk.execution_time.context import VariableAccessor

from channelhub.alerts import OPERATORS_VARIABLE, operator_alert
from channelhub.alerts.notifier import LOG_HINT_VARIABLE
from channelhub.settings import connection_env
from channelhub_dev.smtp_server import SmtpServer


@pytest.fixture
def smtp(tmp_path, monkeypatch):
    server = SmtpServer(tmp_path / "mail").start()
    key, value = connection_env({"conn_id": "alerts_smtp", "conn_type": "smtp", "conn_host": "127.0.0.1",
                                 "conn_port": server.port, "conn_extra": {
                                     "disable_ssl": True, "disable_tls": True, "from_email": "hub@localhost"}})
    monkeypatch.setenv(key, value)
    monkeypatch.setenv(f"AIRFLOW_VAR_{OPERATORS_VARIABLE.upper()}", "ops@localhost")
    yield server
    server.stop()


def failure_context(task_id: str, **extra) -> dict:
    ti = SimpleNamespace(dag_id="sftp__acme__main", task_id=task_id, run_id="manual__1", try_number=1,
                         log_url="http://127.0.0.1:8080/log")
    return {"ti": ti, "task_instance": ti, "logical_date": "2026-11-20",
            "var": {"value": VariableAccessor(deserialize_json=False)}, **extra}


def test_each_failure_gets_its_own_alert_even_through_one_shared_callback(smtp):
    alert = operator_alert("alerts_smtp")  # one instance, as default_args gives every task
    alert(failure_context("daily_sales.load", exception=ValueError("bad file")))
    alert(failure_context("check_run", exception=RuntimeError("1 table failed")))
    first, second = smtp.messages
    assert "daily_sales.load" in first["Subject"] and "check_run" in second["Subject"]
    assert "1 table failed" in second.get_body().get_content() and "bad file" not in second.get_body().get_content()


def test_the_alert_links_the_log_or_says_where_it_is_when_no_ui_serves_it(smtp, monkeypatch):
    operator_alert("alerts_smtp")(failure_context("store.load", exception=ValueError("x")))
    monkeypatch.setenv(f"AIRFLOW_VAR_{LOG_HINT_VARIABLE.upper()}", "Task logs: .demo/dag-run.log")
    operator_alert("alerts_smtp")(failure_context("store.load", exception=ValueError("x")))
    linked, hinted = (message.get_body().get_content() for message in smtp.messages)
    assert 'href="http://127.0.0.1:8080/log"' in linked
    assert "Task logs: .demo/dag-run.log" in hinted and "href" not in hinted


def test_a_task_that_died_outside_its_process_still_alerts(smtp):
    operator_alert("alerts_smtp")(failure_context("daily_sales.load"))  # no exception in the context
    (message,) = smtp.messages
    assert "did not end in its own process" in message.get_body().get_content()
