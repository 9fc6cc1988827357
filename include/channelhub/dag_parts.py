"""The hub's DAGs in parts: one small DAG file per tenant file and per client file.

One DAG file building every tenant's DAGs is parsed whole on every change and by every task
start: at 10,000 projects that took about a minute and more than a gigabyte, twice Airflow's
default import limit. Here the DAG bundle (:mod:`channelhub.dag_bundle`) keeps a folder of
*parts*: for each tenant or client file a three-line DAG file that builds that file's DAGs
only, and ``index.json``, what the hub knows about every file (the DAG ids it defines, the
clients it names, its owners' retention, its problems). A refresh re-reads only files whose
size or change time moved, checks what spans files (a project defined twice, a client nobody
defined) on the index, and rewrites only the parts whose file or facts changed; the
dag-processor re-parses a part when its file changes (``file_parsing_sort_mode`` =
``modified_time``, Airflow's default), so a change to one tenant re-parses that tenant alone.

What a part needs from across files (projects skipped, the files of the clients it names, or
that its file is refused) is written into the part, so a part's parse reads its own config file
and nothing else. Two more parts: ``channelhub_maintenance.py`` builds the maintenance DAG from
the index's owners, and ``channelhub_config_errors.py`` fails with every problem, one per file.
Without ``CHANNELHUB_DAG_PARTS_DIR`` the ``dags/`` files build everything in one file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, get_parsing_context

from channelhub.config.client_loader import LoadedClient, load_client_file
from channelhub.config.loader import load_guarded, load_tenant_file, yaml_files
from channelhub.config.paths import clients_dir, config_dir, schemas_dir
from channelhub.exceptions import ConfigFileError, ConfigProblems
from channelhub.formats import load_formats
from channelhub.records.maintenance_dag import DAG_ID as MAINTENANCE_DAG_ID
from channelhub.records.maintenance_dag import Owner, build_maintenance_dag, retention_owners

INDEX = "index.json"
PARTS_ENV = "CHANNELHUB_DAG_PARTS_DIR"
#: Bump when the index's or a part's shape changes: every part is written anew.
LAYOUT = 2
PART_TEMPLATE = '''"""Channel Hub DAG part: {what} (written by the hub's DAG bundle; do not edit).
Facts {digest}: the airflow dag-processor re-parses this file when they change."""
from channelhub.dag_parts import build_part

globals().update(build_part(__file__, {kind!r}, {name!r}, {needs!r}))
'''


@dataclass
class FileFacts:
    """What one config file holds, as far as other files and the maintenance DAG care."""

    stamp: list[int]  # size and change time (ns): unchanged, the file is not read again
    projects: dict[str, list[str]] = field(default_factory=dict)  # tenant files: DAG id -> tenant, project
    clients: list[str] = field(default_factory=list)  # tenant files: named; client files: defined
    links: dict[str, str] = field(default_factory=dict)  # tenant files: DAG id -> the client it names
    owners: list[Owner] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the file's own, as ConfigFileError says them


def parts_dir() -> Path | None:
    """The parts folder, when the hub's DAGs are built in parts (``CHANNELHUB_DAG_PARTS_DIR``)."""
    value = os.environ.get(PARTS_ENV)
    return Path(value) if value else None


def _stamp(path: Path) -> list[int]:
    status = path.stat()
    return [status.st_size, status.st_mtime_ns]


def _tenant_facts(path: Path) -> FileFacts:
    projects, error = load_guarded(path, lambda file: load_tenant_file(file, load_formats(schemas_dir())))
    if error is not None:
        return FileFacts(_stamp(path), problems=[str(error)])
    return FileFacts(_stamp(path), {p.config.dag_id: [p.config.tenant, p.config.project] for p in projects},
                     sorted({p.config.client for p in projects if p.config.client}),
                     {p.config.dag_id: p.config.client for p in projects if p.config.client},
                     retention_owners(projects, []))


def _client_facts(path: Path) -> FileFacts:
    client, error = load_guarded(path, load_client_file)
    if error is not None:
        return FileFacts(_stamp(path), problems=[str(error)])
    return FileFacts(_stamp(path), clients=[client.client],
                     owners=retention_owners([], [LoadedClient(client, path)]))


def _scan(folder: Path, known: dict[str, dict[str, Any]], read: Any) -> dict[str, FileFacts]:
    facts = {}
    for path in (yaml_files(folder) if folder.is_dir() else []):
        before = known.get(path.name)
        if before is not None and before["stamp"] == _stamp(path):
            facts[path.name] = FileFacts(**before)
        else:
            facts[path.name] = read(path)
    return facts


def refresh_parts(folder: Path) -> dict[str, Any]:
    """Reads what changed, writes the index and the parts that changed; returns the index."""
    folder.mkdir(parents=True, exist_ok=True)
    previous = read_index(folder)
    if previous.get("layout") != LAYOUT:
        previous = {}
    tenants = _scan(config_dir(), previous.get("tenants", {}), _tenant_facts)
    clients = _scan(clients_dir(), previous.get("clients", {}), _client_facts)
    index = {"layout": LAYOUT, "tenants": {n: asdict(f) for n, f in tenants.items()},
             "clients": {n: asdict(f) for n, f in clients.items()}}
    index.update(_across_files(tenants, clients))
    _write_atomically(folder / INDEX, json.dumps(index, sort_keys=True))
    wanted = {"channelhub_maintenance.py": _part("maintenance", "", "the maintenance DAG",
                                                 maintenance_owners(index), {}),
              "channelhub_config_errors.py": _part("errors", "", "every config problem, as this file's import "
                                                   "error", [], {"problems": index["problems"]})}
    for kind, facts in (("tenant", tenants), ("client", clients)):
        for name, file_facts in facts.items():
            wanted[_part_name(kind, name)] = _part(kind, name, f"the {kind} file {name}", asdict(file_facts),
                                                   _needs(index, kind, name, file_facts))
    for path in folder.glob("*.py"):
        if path.name not in wanted:
            path.unlink()
    for part, text in wanted.items():
        target = folder / part
        if not target.exists() or target.read_text() != text:
            _write_atomically(target, text)
    return index


def _across_files(tenants: dict[str, FileFacts], clients: dict[str, FileFacts]) -> dict[str, Any]:
    """What no file shows on its own: a project or client defined twice (the older tenant file,
    or the first client file by name, keeps it) and projects naming a client nobody defined."""
    refused: dict[str, list[str]] = {}
    defined: dict[str, str] = {}
    for name, facts in clients.items():  # in name order, as the one-file build loads them
        for client in facts.clients:
            if client in defined:
                refused.setdefault(name, []).append(f"client {client!r} is already defined in "
                                                    f"{clients_dir() / defined[client]}")
            else:
                defined[client] = name
    owner_of: dict[str, str] = {}
    for name in sorted(tenants, key=lambda n: (tenants[n].stamp[1], n)):  # the older file first
        twice = [dag_id for dag_id in tenants[name].projects if dag_id in owner_of]
        if twice:
            refused[name] = [f"tenant {tenant!r} project {project!r} is already defined in {owner_of[dag_id]}, "
                             "which keeps it; remove one of the two files"
                             for dag_id in twice for tenant, project in [tenants[name].projects[dag_id]]]
            continue
        owner_of.update(dict.fromkeys(tenants[name].projects, name))
    skipped: dict[str, list[str]] = {}
    problems: list[ConfigFileError] = []
    for name, facts in tenants.items():
        unlinked = {dag_id: client for dag_id, client in facts.links.items() if client not in defined}
        if unlinked and name not in refused:
            skipped[name] = sorted(unlinked)
            problems += [ConfigFileError(config_dir() / name, [
                f"project {facts.projects[dag_id][1]!r}: client {client!r} is not configured in {clients_dir()}"])
                for dag_id, client in sorted(unlinked.items())]
    for folder, facts in ((config_dir(), tenants), (clients_dir(), clients)):
        for name in facts:
            if name in refused:
                problems.append(ConfigFileError(folder / name, refused[name]))
    own = [problem for f in (*tenants.values(), *clients.values()) for problem in f.problems]
    return {"refused": refused, "skipped": skipped, "client_files": defined,
            "problems": own + [str(problem) for problem in problems]}


def _needs(index: dict[str, Any], kind: str, name: str, facts: FileFacts) -> dict[str, Any]:
    """What a tenant or client part needs from the index, written into the part itself: a part's
    parse reads its own config file and no other (reading the whole index in every part made the
    parts' total parse twice the one-file build's at 10,000 projects)."""
    if name in index["refused"] or facts.problems:
        return {"refused": True}
    if kind == "client":
        return {}
    return {"skipped": index["skipped"].get(name, []),
            "client_files": {client: index["client_files"][client]
                             for client in facts.clients if client in index["client_files"]}}


def _part(kind: str, name: str, what: str, facts: Any, needs: dict[str, Any]) -> str:
    """A part's text: its facts' digest in the docstring, so that the part changes (and the
    dag-processor re-parses it) when its file or anything it is built from changes."""
    digest = hashlib.sha256(json.dumps([LAYOUT, facts, needs], sort_keys=True).encode()).hexdigest()[:16]
    readable = re.sub(r"[^\w .-]", "_", what)  # a file name cannot end the docstring
    return PART_TEMPLATE.format(kind=kind, name=name, what=readable, digest=digest, needs=needs)


def maintenance_owners(index: dict[str, Any]) -> list[Owner]:
    """Every owner of a file the hub builds DAGs from (a refused file's are not)."""
    refused = index.get("refused", {})
    return [tuple(owner) for kind in ("tenants", "clients") for name, facts in sorted(index.get(kind, {}).items())
            if name not in refused for owner in facts["owners"]]


def _part_name(kind: str, name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_]", "_", Path(name).stem)[:80]
    return f"{kind}__{stem}__{hashlib.sha256(name.encode()).hexdigest()[:8]}.py"


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    with os.fdopen(handle, "w") as out:
        out.write(text)
    os.replace(temporary, path)


def read_index(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / INDEX).read_text())
    except (FileNotFoundError, ValueError):
        return {}


def build_part(part_file: str, kind: str, name: str, needs: dict[str, Any]) -> dict[str, DAG]:
    """The DAGs of one tenant or client file, as its part asks (``needs``: what the refresh found
    across files); nothing for a refused file (the config-errors file names why). Under a task's
    parsing context, only that task's DAG."""
    from channelhub.tenant_dag.factory import build_tenant_dag

    wanted = get_parsing_context().dag_id
    if kind == "errors":
        raise_problems(needs["problems"])
        return {}
    if kind == "maintenance":
        return {MAINTENANCE_DAG_ID: build_maintenance_dag(maintenance_owners(read_index(Path(part_file).parent)))} \
            if wanted in (None, MAINTENANCE_DAG_ID) else {}
    if needs.get("refused"):
        return {}
    if kind == "client":
        path = clients_dir() / name
        return build_client_dags(LoadedClient(load_client_file(path), path), wanted)
    skipped = set(needs["skipped"])
    projects = [p for p in load_tenant_file(config_dir() / name, load_formats(schemas_dir()))
                if p.config.dag_id not in skipped and wanted in (None, p.config.dag_id)]
    client_files = needs["client_files"]
    clients = {client: load_client_file(clients_dir() / client_files[client])
               for client in {p.config.client for p in projects if p.config.client}}
    return {p.config.dag_id: build_tenant_dag(p, clients[p.config.client] if p.config.client else None)
            for p in projects}


def build_client_dags(client: LoadedClient, wanted: str | None) -> dict[str, DAG]:
    """A client's channel-job, location and flow DAGs; under a task's parsing context
    (``wanted``), only that task's DAG."""
    from channelhub.channel_jobs.factory import build_channel_job_dags
    from channelhub.location_jobs.factory import build_location_dags

    name = client.config.client
    dags = {}
    if wanted is None or wanted.startswith(f"erp__{name}__"):
        dags.update({dag.dag_id: dag for dag in build_channel_job_dags(client)})
    if wanted is None or wanted.startswith((f"loc__{name}__", f"flow__{name}__")):
        dags.update({dag.dag_id: dag for dag in build_location_dags(client) if wanted in (None, dag.dag_id)})
    return dags


def raise_problems(problems: list[str]) -> None:
    """Fails with every config problem, one per line, naming file and key; nothing when all is well."""
    if problems:
        raise ConfigProblems(f"{len(problems)} configuration file(s) skipped; their DAGs are not built:\n"
                             + "\n".join(f"- {problem}" for problem in problems))
