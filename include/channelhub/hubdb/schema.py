"""The hub database's tables (SQLAlchemy Core; SQLite and PostgreSQL): the ledger, the push
API's credentials, the sync flows' activity log and marks (channelhub.sync.state), and what
the operations console shows and keeps: errors with their attempts, tenant file loads, the
audit trail of people's actions and erase receipts (channelhub.records)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only

documents = sa.Table(
    "ledger_documents", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("client", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False, comment="The channel the document came from"),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("doc_key", sa.String(400), nullable=False),
    sa.Column("message_id", sa.String(36), nullable=False, unique=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("payload_sha", sa.String(64), nullable=False),
    sa.Column("origin", sa.String(200), nullable=False, comment="api:<username> or tenant:<dag id>"),
    sa.Column("received_at", sa.DateTime, nullable=False, comment="UTC"),
    sa.Column("updated_at", sa.DateTime, nullable=False, comment="UTC"),
    sa.Column("edited_payload", sa.Text, comment="a person's edit for a retry, kept beside the original"),
    sa.Column("edited_by", sa.String(200)),
    sa.Column("edited_at", sa.DateTime),
    sa.Column("payload_purged_at", sa.DateTime, comment="the payload was removed by retention (UTC)"),
    sa.UniqueConstraint("client", "doc_key", name="uq_ledger_documents_key"),
    sa.Index("ix_ledger_documents_received", "received_at"),
)

deliveries = sa.Table(
    "ledger_deliveries", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("document_id", ID, sa.ForeignKey("ledger_documents.id", ondelete="CASCADE"), nullable=False),
    sa.Column("client", sa.String(64), nullable=False),
    sa.Column("target", sa.String(64), nullable=False, comment="The channel id the document goes to"),
    sa.Column("job", sa.String(40), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("response_status", sa.Integer),
    sa.Column("response_body", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("sent_at", sa.DateTime),
    sa.UniqueConstraint("document_id", "target", name="uq_ledger_deliveries_target"),
    sa.Index("ix_ledger_deliveries_due", "client", "job", "status", "id"),
)

external_credentials = sa.Table(
    "external_credentials", metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("client", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("password_hash", sa.String(300), nullable=False, comment="scrypt; the password is never stored"),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime),
    sa.Column("label", sa.String(200)),
    sa.Column("networks", sa.Text, comment="JSON list of CIDR networks it may call from; NULL: any address"),
    sa.Column("resources", sa.Text, comment="JSON list of push API resources; NULL: all"),
    sa.Column("methods", sa.Text, comment="JSON list of HTTP methods; NULL: all"),
    sa.Column("expires_at", sa.DateTime, comment="UTC; NULL: never"),
    sa.Column("per_second", sa.Integer, comment="calls a second at most; NULL: unlimited"),
    sa.Column("per_window", sa.Integer, comment="calls per 15 minutes at most; NULL: unlimited"),
    sa.Column("previous_password_hash", sa.String(300), comment="the secret before a rotation, until previous_until"),
    sa.Column("previous_until", sa.DateTime, comment="UTC end of a rotation's overlap"),
    sa.Column("signing_secret", sa.Text, comment="Fernet-encrypted with Airflow's key; NULL: requests are not signed"),
    sa.Column("previous_signing_secret", sa.Text, comment="Fernet-encrypted; valid until previous_until"),
)

connection_checks = sa.Table(
    "connection_checks", metadata,
    sa.Column("client", sa.String(64), primary_key=True),
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("conn_id", sa.String(250), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False,
              comment="SHA-256 of the connection's fields when checked: a change means test again"),
    sa.Column("passed", sa.Boolean, nullable=False, comment="the last check's outcome"),
    sa.Column("message", sa.Text, nullable=False, comment="the connector's words, without secrets"),
    sa.Column("checked_at", sa.DateTime, nullable=False, comment="UTC"),
    sa.Column("last_passed_at", sa.DateTime, comment="UTC of the last check that passed"),
)

activity_log = sa.Table(
    "activity_log", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("client", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("location", sa.String(40), nullable=False, comment="'' for flows of the whole channel"),
    sa.Column("flow", sa.String(20), nullable=False, comment="invex, order_sync, order_status, product_sync"),
    sa.Column("direction", sa.String(3), nullable=False, comment="in: read from a system; out: written to one"),
    sa.Column("record_key", sa.String(200), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("message", sa.Text),
    sa.Column("detail", sa.Text, comment="the record as sent or read (JSON, cut at 2,000 characters)"),
    sa.Column("run_id", sa.String(250)),
    sa.Column("at", sa.DateTime, nullable=False, comment="UTC"),
    sa.Index("ix_activity_log_scope", "client", "channel", "location", "flow", "id"),
    sa.Index("ix_activity_log_at", "at"),
)

sync_marks = sa.Table(
    "sync_marks", metadata,
    sa.Column("client", sa.String(64), primary_key=True),
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("location", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(20), primary_key=True, comment="cursor, stock, product, status"),
    sa.Column("record_key", sa.String(200), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# --- The operations console's records (channelhub.records) ---------------------------------

record_errors = sa.Table(
    "record_errors", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(10), nullable=False, comment="delivery, activity or file"),
    sa.Column("owner", sa.String(64), nullable=False, comment="the client or tenant"),
    sa.Column("channel", sa.String(64), nullable=False, comment="'' where none"),
    sa.Column("location", sa.String(40), nullable=False, comment="'' where none; the project for files"),
    sa.Column("flow", sa.String(40), nullable=False, comment="job, location flow, or the table of a file"),
    sa.Column("trace_key", sa.String(400), nullable=False,
              comment="what ties a record's attempts together: document key, SKU, file name"),
    sa.Column("dag_id", sa.String(250), nullable=False, comment="the DAG that moves the record (authorization)"),
    sa.Column("ref_id", ID, comment="the delivery or tenant load the error is about"),
    sa.Column("message_id", sa.String(36), comment="the messageId of a delivery's document"),
    sa.Column("status", sa.String(14), nullable=False, comment="open, retrying, resolved, ignored, auto_resolved"),
    sa.Column("error_class", sa.String(20), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("request", sa.Text, comment="what was sent (JSON); purged with the payloads"),
    sa.Column("response", sa.Text, comment="what the partner answered; purged with the payloads"),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("first_at", sa.DateTime, nullable=False, comment="UTC"),
    sa.Column("last_at", sa.DateTime, nullable=False, comment="UTC"),
    sa.Column("last_run_id", sa.String(250)),
    sa.Column("resolved_at", sa.DateTime),
    sa.Column("resolved_by", sa.String(200), comment="a user, or 'auto' for a later success"),
    sa.Column("note", sa.Text),
    sa.UniqueConstraint("source", "owner", "trace_key", "channel", "location", "flow", name="uq_record_errors_trace"),
    sa.Index("ix_record_errors_status", "status", "id"),
    sa.Index("ix_record_errors_dag", "dag_id", "status", "id"),
    sa.Index("ix_record_errors_owner", "owner", "status", "id"),
    sa.Index("ix_record_errors_ref", "source", "ref_id"),
    sa.Index("ix_record_errors_last_at", "last_at"),
)

record_attempts = sa.Table(
    "record_attempts", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("error_id", ID, sa.ForeignKey("record_errors.id", ondelete="CASCADE"), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False, comment="UTC"),
    sa.Column("outcome", sa.String(16), nullable=False, comment="failed, held, succeeded, retry_asked, edited"),
    sa.Column("message", sa.Text),
    sa.Column("run_id", sa.String(250)),
    sa.Index("ix_record_attempts_error", "error_id", "id"),
)

tenant_loads = sa.Table(
    "tenant_loads", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("project", sa.String(64), nullable=False),
    sa.Column("dag_id", sa.String(250), nullable=False),
    sa.Column("table_name", sa.String(40), nullable=False),
    sa.Column("run_date", sa.Date, nullable=False),
    sa.Column("status", sa.String(10), nullable=False, comment="SUCCESS, FAILED, MISSING"),
    sa.Column("rows_read", sa.Integer, nullable=False),
    sa.Column("rows_loaded", sa.Integer, nullable=False),
    sa.Column("rows_rejected", sa.Integer, nullable=False),
    sa.Column("error_count", sa.Integer, nullable=False),
    sa.Column("detail", sa.Text, comment="why, for a table that was not loaded"),
    sa.Column("first_errors", sa.Text, comment="JSON: the first issues of the error report"),
    sa.Column("report", sa.Text, comment="the error report (TSV); purged with the payloads"),
    sa.Column("report_name", sa.String(200), comment="its file name, for a download"),
    sa.Column("report_path", sa.String(600), comment="where it lies beside the file on the SFTP server"),
    sa.Column("run_id", sa.String(250)),
    sa.Column("at", sa.DateTime, nullable=False, comment="UTC"),
    sa.Index("ix_tenant_loads_dag", "dag_id", "run_date", "id"),
    sa.Index("ix_tenant_loads_at", "at"),
)

console_audit = sa.Table(
    "console_audit", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False, comment="UTC"),
    sa.Column("username", sa.String(200), nullable=False),
    sa.Column("action", sa.String(20), nullable=False, comment="retry, run_now, resolve, ignore, edit, erase, purge"),
    sa.Column("target", sa.Text, nullable=False, comment="the records acted on: ids or the filter (JSON)"),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("note", sa.Text),
    sa.Index("ix_console_audit_at", "at"),
)

erase_receipts = sa.Table(
    "erase_receipts", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False, comment="UTC"),
    sa.Column("username", sa.String(200), nullable=False),
    sa.Column("subject_kind", sa.String(20), nullable=False, comment="email or customer id; never the value"),
    sa.Column("counts", sa.Text, nullable=False, comment="JSON: rows masked per table"),
    sa.Column("note", sa.Text),
)
