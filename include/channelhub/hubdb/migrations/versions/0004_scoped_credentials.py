"""Push credentials get a grant (allow list of networks, resources, methods, expiry, request
budget, label), a
rotation's overlap (the previous secret and until when it holds) and an optional signing secret.
Credentials made before keep working as they did: every new part is NULL, "not limited".

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


def downgrade() -> None:
    with op.batch_alter_table("external_credentials") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
