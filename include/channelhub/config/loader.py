"""Loading every tenant file of a folder, keeping the good ones when some are broken.

A tenant file looks like::

    tenant: acme
    defaults:            # optional: merged into every project below
      sftp_conn_id: channelhub_sftp
    projects:
      - project: main
        tables: [store, style, sku, daily_sales]
        notify: {emails: [ops@acme.example]}

Each broken file is reported (file and key) and skipped; the other tenants still load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from channelhub import PROJECT_ROOT
from channelhub.config.tenants import TenantProject
from channelhub.exceptions import ConfigFileError
from channelhub.formats import FileFormat, load_format, load_formats
from channelhub.formats.registry import DEFAULT_SCHEMAS_DIR
from channelhub.productdb.tables import MAX_IDENTIFIER, longest_name
from channelhub.yamlfile import describe_validation_error, read_yaml

T = TypeVar("T")
DEFAULT_CONFIG_DIR = PROJECT_ROOT / "include" / "config" / "tenants"
FILE_KEYS = {"tenant", "defaults", "projects"}
MAX_OVERRIDE_PATH = 1024


@dataclass(frozen=True)
class LoadedProject:
    """A validated tenant project with the file formats it uses (shipped or overridden)."""

    config: TenantProject
    formats: dict[str, FileFormat]
    source: Path


@dataclass
class TenantConfig:
    projects: list[LoadedProject] = field(default_factory=list)
    errors: list[ConfigFileError] = field(default_factory=list)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def confined_override(tenant_file: Path, override: str) -> Path | str:
    """The format file an override names, or why it is refused.

    It must lie in a subfolder of the tenant file's folder, after following links: an
    override is read by the hub with the hub's rights, so ``/etc/passwd`` or
    ``../../secrets.yaml`` must not be reachable from a tenant's config.
    """
    if "\x00" in override or len(override) > MAX_OVERRIDE_PATH or any(len(p) > 255 for p in override.split("/")):
        return f"is not a usable path (a NUL byte, or longer than {MAX_OVERRIDE_PATH} characters)"
    base = tenant_file.parent.resolve()
    if Path(override).is_absolute():
        return f"must be a path relative to {tenant_file.name}, in a subfolder such as formats/"
    try:
        resolved = (base / override).resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a loop of links
        return f"cannot be resolved: {exc}"
    if not resolved.is_relative_to(base):
        return f"leads out of the tenant file's folder {base.name}/"
    if resolved.parent == base:
        return "must be in a subfolder (e.g. formats/): every YAML directly in the tenant folder is a tenant"
    return resolved


def _where_written(problem: str, where: str, raw: dict[str, Any], defaults: dict[str, Any]) -> str:
    """A project's problem named where the file holds the key: under ``defaults:`` when the
    project itself does not set it (``defaults.schedule.timezone``, not ``projects[0]...``)."""
    if not problem.startswith(where + "."):
        return problem
    path = problem[len(where) + 1:].split(":", 1)[0]
    if _holds(raw, path) or not _holds(defaults, path):
        return problem
    return f"defaults.{problem[len(where) + 1:]}"


def _holds(document: Any, path: str) -> bool:
    """Whether a mapping sets the dotted key ``path`` (as far as it is a path of mappings)."""
    for part in path.split("."):
        key = part.split("[", 1)[0]
        if not isinstance(document, dict) or key not in document:
            return False
        document = document[key]
    return True


def load_tenant_file(path: Path, shipped_formats: dict[str, FileFormat]) -> list[LoadedProject]:
    """All projects of one tenant file; raises ConfigFileError listing every problem in it."""
    document = read_yaml(path)
    if not isinstance(document, dict):
        raise ConfigFileError(path, ["a tenant file must be a mapping with tenant and projects"])
    problems = [f"{key}: unknown key" for key in document if key not in FILE_KEYS]
    problems += [f"{key}: required" for key in ("tenant", "projects") if key not in document]
    defaults = document.get("defaults") or {}
    projects = document.get("projects") or []
    if not isinstance(defaults, dict):
        problems.append("defaults: must be a mapping")
    if not isinstance(projects, list):
        problems.append("projects: must be a list")
    if problems:
        raise ConfigFileError(path, problems)
    loaded = []
    for index, raw in enumerate(projects):
        where = f"projects[{index}]"
        if not isinstance(raw, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        try:
            project = TenantProject.model_validate(_merge(defaults, {**raw, "tenant": document["tenant"]}))
        except ValidationError as exc:
            problems += [_where_written(problem, where, raw, defaults)
                         for problem in describe_validation_error(exc, prefix=where)]
            continue
        formats = {table: shipped_formats[table] for table in project.tables}
        for table, override in project.formats.items():
            format_path = confined_override(path, override)
            if isinstance(format_path, str):
                problems.append(f"{where}.formats.{table}: {override!r} {format_path}")
                continue
            try:
                formats[table] = load_format(format_path)
            except ConfigFileError as exc:
                problems.append(f"{where}.formats.{table}: {exc}")
                continue
            if formats[table].table != table:
                problems.append(f"{where}.formats.{table}: the file describes table {formats[table].table!r}")
        for table, file_format in formats.items():
            unloaded = sorted(file_format.referenced_tables - set(project.tables) - {table})
            if unloaded:
                problems.append(f"{where}.tables: {table} is checked against the {', '.join(unloaded)} "
                                f"master(s), which this project does not load; add {', '.join(unloaded)} to tables")
        too_long = [t for t, f in formats.items() if longest_name(project.table_prefix, f) > MAX_IDENTIFIER]
        if too_long:
            problems.append(f"{where}: tenant and project names are too long for database table names")
        loaded.append(LoadedProject(project, formats, path))
    if problems:
        raise ConfigFileError(path, list(dict.fromkeys(problems)))  # a bad default is named once
    return loaded


def load_guarded(path: Path, load: Callable[[Path], T]) -> tuple[T | None, ConfigFileError | None]:
    """``load(path)`` and no error, or no value and the file's error. One file, whatever it holds,
    never stops the others loading: what breaks the loader in a way no check foresaw is that
    file's problem too."""
    try:
        return load(path), None
    except ConfigFileError as exc:
        return None, exc
    except Exception as exc:
        return None, ConfigFileError(path, [f"the file could not be read ({type(exc).__name__}: {str(exc)[:300]})"])


def yaml_files(config_dir: Path) -> Iterable[Path]:
    """The YAML files of a config folder, in a stable order."""
    return sorted([*config_dir.glob("*.yaml"), *config_dir.glob("*.yml")])


def load_tenant_config(config_dir: Path = DEFAULT_CONFIG_DIR,
                       schemas_dir: Path = DEFAULT_SCHEMAS_DIR) -> TenantConfig:
    """Every valid project in the folder, plus one error per broken file or duplicate project.

    When two files define the same tenant project, the file that was there first (the older
    one) keeps it and the newer file is refused, naming both: a copy dropped beside a working
    tenant never replaces it, whatever the names sort like.
    """
    result = TenantConfig()
    shipped = load_formats(schemas_dir)
    loaded: list[tuple[Path, list[LoadedProject]]] = []
    for path in yaml_files(config_dir):
        projects, error = load_guarded(path, lambda file: load_tenant_file(file, shipped))
        if error is not None:
            result.errors.append(error)
        else:
            loaded.append((path, projects))
    seen: dict[str, Path] = {}
    for path, projects in sorted(loaded, key=lambda item: (item[0].stat().st_mtime_ns, item[0].name)):
        duplicates = [p for p in projects if p.config.dag_id in seen]
        if duplicates:
            result.errors.append(ConfigFileError(path, [
                f"tenant {p.config.tenant!r} project {p.config.project!r} is already defined in "
                f"{seen[p.config.dag_id].name}, which keeps it; remove one of the two files"
                for p in duplicates
            ]))
            continue
        for project in projects:
            seen[project.config.dag_id] = path
        result.projects.extend(projects)
    return result
