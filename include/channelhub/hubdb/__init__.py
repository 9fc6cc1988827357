"""The hub's own database: the ledger, the push API's credentials, the sync flows' activity log
and marks. Not the product database (tenants' loaded tables), which lives in ``productdb``.

Its schema is versioned with Alembic (``channelhub db upgrade``); the runtime never creates
or alters a table, it checks the revision and says what to run when it is behind.
"""
