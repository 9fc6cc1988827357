"""The run-time check's revision is the migrations' head (kept as a constant so no task imports Alembic)."""

from channelhub.hubdb.migrate import HEAD, head


def test_the_code_needs_the_head_of_its_migrations():
    assert head() == HEAD
