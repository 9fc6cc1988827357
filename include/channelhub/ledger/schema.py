"""The ledger's tables in the hub database (SQLAlchemy Core; SQLite and PostgreSQL)."""

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
