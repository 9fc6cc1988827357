"""What ``make up`` leaves for other processes: its folder and the environment its Airflow runs with.

The ``channelhub`` CLI started in a plain shell beside ``make up`` must see what the running
stack sees: its connections (environment and metadata database), config folders and SFTP
users. ``make up`` writes that environment to ``<up dir>/stack-env.json`` (mode 0600,
removed by ``make down``); the CLI adopts it when no Airflow environment of its own is set.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from channelhub import PROJECT_ROOT

ENV_FILE_NAME = "stack-env.json"
#: The variables another process needs to act on the stack (not PATH, HOME or the shell's own).
SHARED_PREFIXES = ("AIRFLOW_", "CHANNELHUB_")


def up_dir() -> Path:
    """``make up``'s folder (``CHANNELHUB_UP_DIR``; default ``.up`` in the checkout)."""
    return Path(os.environ.get("CHANNELHUB_UP_DIR") or PROJECT_ROOT / ".up")


def write_stack_env(env: dict[str, str], folder: Path) -> Path:
    """Keeps the stack's environment for the CLI; readable by this user only (it holds secrets)."""
    path = folder / ENV_FILE_NAME
    write_private_json(path, {key: value for key, value in env.items() if key.startswith(SHARED_PREFIXES)})
    return path


def write_private_json(path: Path, data: object) -> None:
    """``data`` as JSON in a file only this user can read (created so: never briefly readable)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(data, handle)


def adopt_running_stack(environ: dict[str, str] | os._Environ = os.environ) -> Path | None:
    """Takes over ``make up``'s environment when it runs and this process has none of its own.

    Must run before Airflow is imported (Airflow reads its home and config at import).
    Returns the file adopted, or None.
    """
    path = up_dir() / ENV_FILE_NAME
    if "AIRFLOW_HOME" in environ or not path.is_file():
        return None
    environ.update(json.loads(path.read_text()))
    print(f"channelhub: using the environment of the running `make up` ({path.parent})", file=sys.stderr)
    return path
