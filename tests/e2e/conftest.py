"""Fixtures of the end-to-end layer."""

from __future__ import annotations

import os

import pytest

from channelhub.settings import connection_env
from channelhub_dev.tryton import TrytonProcess


@pytest.fixture(scope="module")
def tryton(request, tmp_path_factory):
    """A real Tryton for the module, reachable as the module's ``TRYTON_CONN_ID`` connection."""
    server = TrytonProcess(tmp_path_factory.mktemp("tryton")).start()
    key, value = connection_env(server.connection(request.module.TRYTON_CONN_ID))
    os.environ[key] = value
    yield server
    del os.environ[key]
    server.stop()
