"""Shared fixtures: product databases (SQLite always, PostgreSQL when 127.0.0.1:5432 answers),
a migrated hub database (SQLite), the shipped formats, master data, and a local hub stack with
real SFTP and SMTP servers."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from channelhub.formats import FileFormat, load_formats
from channelhub.hubdb.migrate import upgrade as upgrade_hub_db
from channelhub.productdb.tables import ProjectTables
from channelhub.sqldb import create_engine
from channelhub_dev.postgres import scratch_database

RUN_DATE = date(2026, 11, 20)
PG_ADMIN_URL = os.environ.get("CHANNELHUB_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def postgres_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
        with sa.create_engine(PG_ADMIN_URL).connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception:
        return False
    return True


@contextlib.contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """A new PostgreSQL database (URL), dropped on exit; skips the test when PostgreSQL is absent."""
    if not postgres_available():
        pytest.skip("PostgreSQL is not answering on 127.0.0.1:5432")
    with scratch_database(PG_ADMIN_URL, prefix) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    with fresh_postgres_database("channelhub_test") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path) -> Iterator[sa.Engine]:
    """A product database engine; every test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'product.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def formats() -> dict[str, FileFormat]:
    return load_formats()


@pytest.fixture
def tables(formats) -> ProjectTables:
    """Tables under a prefix unique to the test, so tests sharing a database never meet."""
    return ProjectTables(f"t{uuid.uuid4().hex[:8]}__p__", formats)


def write_tsv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.write_text("\t".join(header) + "\n" + "".join("\t".join(map(str, r)) + "\n" for r in rows))
    return path


@pytest.fixture
def hub_db(tmp_path) -> Iterator[sa.Engine]:
    """A hub database (ledger, credentials, sync state) in a SQLite file, migrated to this code's revision."""
    engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    upgrade_hub_db(engine)
    yield engine
    engine.dispose()
