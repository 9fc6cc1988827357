"""Reading YAML documents and turning pydantic errors into messages that name file and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from channelhub.exceptions import ConfigFileError
from channelhub.strict import location_path

M = TypeVar("M", bound=BaseModel)


def read_yaml(path: Path) -> Any:
    """Parse one YAML file; syntax errors come back as ConfigFileError naming the line."""
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigFileError(path, [f"{where}{exc.problem}"]) from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigFileError(path, [str(exc)]) from exc


def read_model(path: Path, model: type[M], expected: str, error: type[ConfigFileError] = ConfigFileError) -> M:
    """One YAML mapping validated into ``model``; every problem names the file and the key."""
    document = read_yaml(path)
    if not isinstance(document, dict):
        raise error(path, [f"{expected} must be a mapping"])
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise error(path, describe_validation_error(exc)) from None


def describe_validation_error(error: ValidationError, prefix: str = "") -> list[str]:
    """One line per problem, each naming the dotted key path, e.g. ``projects[0].timezone``."""
    problems = []
    for item in error.errors():
        key = location_path(item["loc"], prefix)
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        problems.append(f"{key or '<root>'}: {message}")
    return problems
