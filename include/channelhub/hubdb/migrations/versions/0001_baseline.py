"""Baseline: the hub database as the hub created it before migrations (ledger, credentials, sync state).

A database made by that code (``create_all`` at run time) has some or all of these tables and
no version yet: each missing table is created, existing ones are kept with their rows. The
definitions are frozen here as they were; later changes are later revisions.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def tables(metadata: sa.MetaData) -> list[sa.Table]:
    return [
        sa.Table(
            "ledger_documents", metadata,
            sa.Column("id", ID, primary_key=True, autoincrement=True),
            sa.Column("client", sa.String(64), nullable=False),
            sa.Column("channel", sa.String(64), nullable=False),
            sa.Column("kind", sa.String(32), nullable=False),
            sa.Column("doc_key", sa.String(400), nullable=False),
            sa.Column("message_id", sa.String(36), nullable=False, unique=True),
            sa.Column("payload", sa.Text, nullable=False),
            sa.Column("payload_sha", sa.String(64), nullable=False),
            sa.Column("origin", sa.String(200), nullable=False),
            sa.Column("received_at", sa.DateTime, nullable=False),
            sa.Column("updated_at", sa.DateTime, nullable=False),
            sa.UniqueConstraint("client", "doc_key", name="uq_ledger_documents_key"),
        ),
        sa.Table(
            "ledger_deliveries", metadata,
            sa.Column("id", ID, primary_key=True, autoincrement=True),
            sa.Column("document_id", ID, sa.ForeignKey("ledger_documents.id", ondelete="CASCADE"), nullable=False),
            sa.Column("client", sa.String(64), nullable=False),
            sa.Column("target", sa.String(64), nullable=False),
            sa.Column("job", sa.String(40), nullable=False),
            sa.Column("status", sa.String(10), nullable=False),
            sa.Column("attempts", sa.Integer, nullable=False),
            sa.Column("last_error", sa.Text),
            sa.Column("response_status", sa.Integer),
            sa.Column("response_body", sa.Text),
            sa.Column("created_at", sa.DateTime, nullable=False),
            sa.Column("updated_at", sa.DateTime, nullable=False),
            sa.Column("sent_at", sa.DateTime),
            sa.UniqueConstraint("document_id", "target", name="uq_ledger_deliveries_target"),
            sa.Index("ix_ledger_deliveries_due", "client", "job", "status", "id"),
        ),
        sa.Table(
            "external_credentials", metadata,
            sa.Column("username", sa.String(64), primary_key=True),
            sa.Column("client", sa.String(64), nullable=False),
            sa.Column("channel", sa.String(64), nullable=False),
            sa.Column("password_hash", sa.String(300), nullable=False),
            sa.Column("created_at", sa.DateTime, nullable=False),
            sa.Column("revoked_at", sa.DateTime),
        ),
        sa.Table(
            "activity_log", metadata,
            sa.Column("id", ID, primary_key=True, autoincrement=True),
            sa.Column("client", sa.String(64), nullable=False),
            sa.Column("channel", sa.String(64), nullable=False),
            sa.Column("location", sa.String(40), nullable=False),
            sa.Column("flow", sa.String(20), nullable=False),
            sa.Column("direction", sa.String(3), nullable=False),
            sa.Column("record_key", sa.String(200), nullable=False),
            sa.Column("status", sa.String(12), nullable=False),
            sa.Column("message", sa.Text),
            sa.Column("detail", sa.Text),
            sa.Column("run_id", sa.String(250)),
            sa.Column("at", sa.DateTime, nullable=False),
            sa.Index("ix_activity_log_scope", "client", "channel", "location", "flow", "id"),
        ),
        sa.Table(
            "sync_marks", metadata,
            sa.Column("client", sa.String(64), primary_key=True),
            sa.Column("channel", sa.String(64), primary_key=True),
            sa.Column("location", sa.String(40), primary_key=True),
            sa.Column("kind", sa.String(20), primary_key=True),
            sa.Column("record_key", sa.String(200), primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
            sa.Column("updated_at", sa.DateTime, nullable=False),
        ),
    ]


def upgrade() -> None:
    metadata = sa.MetaData()
    metadata.create_all(op.get_bind(), tables=tables(metadata), checkfirst=True)  # only the missing ones


def downgrade() -> None:
    metadata = sa.MetaData()
    metadata.drop_all(op.get_bind(), tables=tables(metadata), checkfirst=True)
