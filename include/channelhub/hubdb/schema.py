"""The hub database's tables (SQLAlchemy Core; SQLite and PostgreSQL): the ledger, the push
API's credentials, and the sync flows' activity log and marks (channelhub.sync.state)."""

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
    sa.UniqueConstraint("client", "doc_key", name="uq_ledger_documents_key"),
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
