"""Reading YAML documents and turning pydantic errors into messages that name file and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from channelhub.exceptions import ConfigFileError
from channelhub.strict import location_path

M = TypeVar("M", bound=BaseModel)


#: The largest config, format or mapping file read: one file can only ever hold up its own DAGs.
MAX_FILE_BYTES = 1024 * 1024


#: libyaml's safe loader where PyYAML has it (4x faster on a large file), else PyYAML's own.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _refuse_aliases(text: str) -> None:
    """No aliases (``*name``, ``<<: *name``): a file of a few kilobytes could otherwise expand to
    gigabytes (the billion-laughs attack), and config needs none. Read from the parser's events,
    before anything is built."""
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "YAML aliases (*name) are not allowed in config files; "
                                              "write the value out", event.start_mark)


class _NoAliasDumper(yaml.SafeDumper):
    """Writes a value shared by two keys out twice: the hub refuses aliases when it reads."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(document: Any) -> str:
    """YAML the hub's own reader accepts: keys in the given order, no aliases."""
    return yaml.dump(document, Dumper=_NoAliasDumper, sort_keys=False)


def read_yaml(path: Path) -> Any:
    """Parse one YAML file of at most ``MAX_FILE_BYTES``; a syntax error, an alias or a file too
    big comes back as ConfigFileError naming the file (and the line)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as exc:  # ValueError: a path holding a NUL byte
        raise ConfigFileError(path, [str(exc)[:500]]) from exc
    if len(data) > MAX_FILE_BYTES:
        raise ConfigFileError(path, [f"the file is larger than {MAX_FILE_BYTES:,} bytes, the most a config "
                                     "file may be; split it (one tenant or client per file)"])
    try:
        text = data.decode("utf-8")
        _refuse_aliases(text)
        return yaml.load(text, Loader=_LOADER)  # noqa: S506: a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigFileError(path, [f"{where}{exc.problem}"]) from exc
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigFileError(path, [str(exc)[:500]]) from exc


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
