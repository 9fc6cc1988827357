"""Push credentials get a grant (allow list of networks, resources, methods, expiry, request
budget, label), a
rotation's overlap (the previous secret and until when it holds) and an optional signing secret.
Credentials made before keep working as they did: every new part is NULL, "not limited".
Each pair's last connection check (the connector's credential test) is kept with its time.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = (
    ("label", sa.String(200)),
    ("networks", sa.Text),
    ("resources", sa.Text),
    ("methods", sa.Text),
    ("expires_at", sa.DateTime),
    ("per_second", sa.Integer),
    ("per_window", sa.Integer),
    ("previous_password_hash", sa.String(300)),
    ("previous_until", sa.DateTime),
    ("signing_secret", sa.Text),
    ("previous_signing_secret", sa.Text),
)


def upgrade() -> None:
    with op.batch_alter_table("external_credentials") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind))
    op.create_table(
        "connection_checks",
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


def downgrade() -> None:
    op.drop_table("connection_checks")
    with op.batch_alter_table("external_credentials") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
