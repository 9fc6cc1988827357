"""The operations console's records: errors with their attempts, tenant file loads, the audit
trail and erase receipts; a person's edit and the retention mark beside each ledger payload;
indexes on the times retention purges by.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NEW_TABLES = ("erase_receipts", "console_audit", "tenant_loads", "record_attempts", "record_errors")


def upgrade() -> None:
    with op.batch_alter_table("ledger_documents") as batch:
        batch.add_column(sa.Column("edited_payload", sa.Text))
        batch.add_column(sa.Column("edited_by", sa.String(200)))
        batch.add_column(sa.Column("edited_at", sa.DateTime))
        batch.add_column(sa.Column("payload_purged_at", sa.DateTime))
    op.create_index("ix_ledger_documents_received", "ledger_documents", ["received_at"])
    op.create_index("ix_activity_log_at", "activity_log", ["at"])

    op.create_table(
        "record_errors",
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
        sa.UniqueConstraint("source", "owner", "trace_key", "channel", "location", "flow",
                            name="uq_record_errors_trace"),
        sa.Index("ix_record_errors_status", "status", "id"),
        sa.Index("ix_record_errors_dag", "dag_id", "status", "id"),
        sa.Index("ix_record_errors_owner", "owner", "status", "id"),
        sa.Index("ix_record_errors_ref", "source", "ref_id"),
        sa.Index("ix_record_errors_last_at", "last_at"),
    )

    op.create_table(
        "record_attempts",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("error_id", ID, sa.ForeignKey("record_errors.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False, comment="UTC"),
        sa.Column("outcome", sa.String(16), nullable=False, comment="failed, held, succeeded, retry_asked, edited"),
        sa.Column("message", sa.Text),
        sa.Column("run_id", sa.String(250)),
        sa.Index("ix_record_attempts_error", "error_id", "id"),
    )

    op.create_table(
        "tenant_loads",
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

    op.create_table(
        "console_audit",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False, comment="UTC"),
        sa.Column("username", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False,
                  comment="retry, run_now, resolve, ignore, edit, erase, purge"),
        sa.Column("target", sa.Text, nullable=False, comment="the records acted on: ids or the filter (JSON)"),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("note", sa.Text),
        sa.Index("ix_console_audit_at", "at"),
    )

    op.create_table(
        "erase_receipts",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False, comment="UTC"),
        sa.Column("username", sa.String(200), nullable=False),
        sa.Column("subject_kind", sa.String(20), nullable=False, comment="email or customer id; never the value"),
        sa.Column("counts", sa.Text, nullable=False, comment="JSON: rows masked per table"),
        sa.Column("note", sa.Text),
    )


def downgrade() -> None:
    for table in NEW_TABLES:
        op.drop_table(table)
    op.drop_index("ix_activity_log_at", "activity_log")
    op.drop_index("ix_ledger_documents_received", "ledger_documents")
    with op.batch_alter_table("ledger_documents") as batch:
        for column in ("payload_purged_at", "edited_at", "edited_by", "edited_payload"):
            batch.drop_column(column)
