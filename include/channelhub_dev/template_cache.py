"""Template databases of the local partner servers (Tryton, Oscar), built once per set of
installed versions and copied for each server.

Initialising a partner's database costs minutes of CPU on 2 cores, so it is done once into
``CHANNELHUB_TEMPLATE_CACHE/<name>`` (default ``~/.cache/channelhub/<name>``), named by a hash
of what it was built from; building is guarded by a file lock, so parallel test workers build
it once, and a build that fails leaves nothing behind.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
from collections.abc import Callable
from importlib import metadata
from pathlib import Path


def cache_dir(name: str) -> Path:
    root = os.environ.get("CHANNELHUB_TEMPLATE_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "channelhub") / name


def cached_template(name: str, distributions: tuple[str, ...], revision: str, build: Callable[[Path], None]) -> Path:
    """The template file for the installed ``distributions`` and the setup's ``revision``;
    ``build(partial_path)`` makes it when missing (the file is moved into place only once whole)."""
    versions = ";".join(f"{d}={metadata.version(d)}" for d in distributions) + f";setup={revision}"
    folder = cache_dir(name)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"template-{hashlib.sha256(versions.encode()).hexdigest()[:16]}.sqlite"
    with (folder / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            partial = path.with_suffix(".partial")
            build(partial)
            partial.replace(path)
    return path


def run_checked(command: list[str], env: dict[str, str], timeout: float, cwd: Path | None = None) -> None:
    """Runs a set-up command; a failure raises with the end of its output."""
    done = subprocess.run(command, env=env, input="\n", capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
