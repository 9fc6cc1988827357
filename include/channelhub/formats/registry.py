"""Finding and parsing file formats: the shipped ones in ``schemas/`` and project overrides."""

from __future__ import annotations

import os
from pathlib import Path

from channelhub import PROJECT_ROOT
from channelhub.exceptions import FormatError
from channelhub.formats.model import FileFormat
from channelhub.yamlfile import read_model

DEFAULT_SCHEMAS_DIR = PROJECT_ROOT / "schemas"


def schemas_dir() -> Path:
    """The shipped file formats and default mappings (``CHANNELHUB_SCHEMAS_DIR``)."""
    return Path(os.environ.get("CHANNELHUB_SCHEMAS_DIR", DEFAULT_SCHEMAS_DIR))


def load_format(path: Path) -> FileFormat:
    """Parse one format file, naming the file and key of every problem."""
    return read_model(path, FileFormat, "a format", FormatError)


def load_formats(schemas_dir: Path = DEFAULT_SCHEMAS_DIR) -> dict[str, FileFormat]:
    """All formats in a folder, keyed by table; the file name must match the table."""
    formats: dict[str, FileFormat] = {}
    for path in sorted(schemas_dir.glob("*.yaml")):
        file_format = load_format(path)
        if file_format.table != path.stem:
            raise FormatError(path, [f"table: {file_format.table!r} does not match the file name"])
        formats[file_format.table] = file_format
    return formats
