"""Alembic's environment for the hub database: always run on a connection the hub passes in."""

from alembic import context

from channelhub.hubdb.migrate import VERSION_TABLE
from channelhub.hubdb.schema import metadata

context.configure(connection=context.config.attributes["connection"], target_metadata=metadata,
                  version_table=VERSION_TABLE, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
