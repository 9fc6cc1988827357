"""What the operations console shows and keeps: every failed record with its attempts, each
tenant file load, people's actions on them, and the retention and erasure of what the hub
holds about people.

Writers (the ledger, the sync flows' activity log, the tenant DAGs' report) call
:mod:`channelhub.records.errors` in their own transactions, so a record's error is written with
its outcome or not at all; the console (:mod:`channelhub.console`) reads and acts through
:mod:`channelhub.records.query` and :mod:`channelhub.records.actions`.
"""
