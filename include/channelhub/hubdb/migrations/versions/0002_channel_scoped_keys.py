"""Pushed documents get channel-scoped keys, as the push API has made them since it scoped keys.

Before, a pushed document's key was ``<kind>:<location>:<order>...``; now it is
``<kind>:<channel>:<location>:<order>...``, so two channels' equal order codes never meet.
Documents entered before that kept the old key, so the same order pushed again after the
change looked new and would be posted twice. This rewrites those keys (the ``messageId``
the ERP saw is kept); a document whose new key is taken already (pushed again before this
upgrade) keeps its old key and is counted in the log.

Revision ID: 0002
Revises: 0001
"""

import json
import logging

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
PUSHED_KINDS = ("outward", "inward", "inward-complete", "gate-entry", "return", "inventory")
documents = sa.table("ledger_documents", sa.column("id"), sa.column("client"), sa.column("channel"),
                     sa.column("doc_key"), sa.column("payload"), sa.column("origin"))


def channel_scoped(key: str, channel: str, location: str | None) -> str | None:
    """The key with the channel in it, or None when the key is not of the old pushed shape."""
    kind, _, rest = key.partition(":")
    if kind not in PUSHED_KINDS or not location or rest.startswith(f"{channel}:{location}:"):
        return None
    return f"{kind}:{channel}:{rest}" if rest.startswith(f"{location}:") else None


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(documents).where(documents.c.origin.like("api:%"))).all()
    taken = {(row.client, row.doc_key) for row in rows}
    rewritten = kept = 0
    for row in rows:
        new_key = channel_scoped(row.doc_key, row.channel, json.loads(row.payload).get("locationCode"))
        if new_key is None:
            continue
        if (row.client, new_key) in taken:
            kept += 1
            continue
        bind.execute(documents.update().where(documents.c.id == row.id).values(doc_key=new_key))
        taken.add((row.client, new_key))
        rewritten += 1
    log.info("Channel-scoped keys: %d pushed document(s) rewritten, %d kept (already pushed again)",
             rewritten, kept)


def downgrade() -> None:
    bind = op.get_bind()
    for row in bind.execute(sa.select(documents).where(documents.c.origin.like("api:%"))).all():
        kind, _, rest = row.doc_key.partition(":")
        if kind in PUSHED_KINDS and rest.startswith(f"{row.channel}:"):
            old = f"{kind}:{rest.removeprefix(f'{row.channel}:')}"
            bind.execute(documents.update().where(documents.c.id == row.id).values(doc_key=old))
