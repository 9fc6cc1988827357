"""Finding and parsing file formats: the shipped ones in ``schemas/`` and project overrides."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from channelhub import PROJECT_ROOT
from channelhub.formats.model import FileFormat
from channelhub.yamlfile import ConfigFileError, describe_validation_error, read_yaml

DEFAULT_SCHEMAS_DIR = PROJECT_ROOT / "schemas"


class FormatError(ConfigFileError):
    """A file format that does not parse or contradicts itself."""


def load_format(path: Path) -> FileFormat:
    """Parse one format file, naming the file and key of every problem."""
    document = read_yaml(path)
    if not isinstance(document, dict):
        raise FormatError(path, ["a format must be a mapping"])
    try:
        return FileFormat.model_validate(document)
    except ValidationError as exc:
        raise FormatError(path, describe_validation_error(exc)) from exc


def load_formats(schemas_dir: Path = DEFAULT_SCHEMAS_DIR) -> dict[str, FileFormat]:
    """All formats in a folder, keyed by table; the file name must match the table."""
    formats: dict[str, FileFormat] = {}
    for path in sorted(schemas_dir.glob("*.yaml")):
        file_format = load_format(path)
        if file_format.table != path.stem:
            raise FormatError(path, [f"table: {file_format.table!r} does not match the file name"])
        formats[file_format.table] = file_format
    return formats
