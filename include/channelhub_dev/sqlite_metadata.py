"""Connect arguments for a local stack's SQLite metadata database, imported by Airflow itself
(``[database] sql_alchemy_connect_args``) while it sets up, so this module imports nothing.

A writer waits up to a minute for another's lock instead of failing at once: with Python's 5 s
default, unpausing and triggering a dozen DAGs together made the scheduler's loop fail with
"database is locked" and the scheduler exit (seen in tests/e2e/test_up_onboarding.py).
"""

CONNECT_ARGS = {"timeout": 60}
