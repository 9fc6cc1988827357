"""Where the configuration lives: each folder can be moved with an environment variable."""

from __future__ import annotations

import os
from pathlib import Path

from channelhub.config.client_loader import DEFAULT_CLIENTS_DIR
from channelhub.config.loader import DEFAULT_CONFIG_DIR
from channelhub.formats.registry import schemas_dir

__all__ = ["clients_dir", "config_dir", "schemas_dir"]


def config_dir() -> Path:
    """Tenant files (``CHANNELHUB_CONFIG_DIR``)."""
    return Path(os.environ.get("CHANNELHUB_CONFIG_DIR", DEFAULT_CONFIG_DIR))


def clients_dir() -> Path:
    """Client files (``CHANNELHUB_CLIENTS_DIR``)."""
    return Path(os.environ.get("CHANNELHUB_CLIENTS_DIR", DEFAULT_CLIENTS_DIR))
