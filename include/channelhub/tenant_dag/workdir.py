"""Where a load keeps its download, so that a killed load's leftovers are cleaned by the next.

``tempfile.TemporaryDirectory`` is removed on a normal exit only: a load killed with
SIGKILL (an OOM kill, a lost worker) left its whole download in TMPDIR for good. Here each
load works in its own ``<work root>/<dag id>/<table>/<run date>-<random>/`` and holds an exclusive lock on
it; the kernel drops the lock when the process dies, however it dies. Every load first
removes the folders beside its own that nobody holds, which is what a dead load left.

The work root is ``CHANNELHUB_WORK_DIR`` (default ``<TMPDIR>/channelhub-work``); each worker
machine cleans its own.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".lock"


def work_root() -> Path:
    return Path(os.environ.get("CHANNELHUB_WORK_DIR") or Path(tempfile.gettempdir()) / "channelhub-work")


def _held(folder: Path) -> bool:
    """Whether a live process holds ``folder``'s lock (a folder without a lock is being created)."""
    try:
        handle = (folder / LOCK_NAME).open("a")
    except OSError:
        return True
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        return False


@contextmanager
def load_workdir(dag_id: str, table: str, run_date: str) -> Iterator[Path]:
    """An empty folder for one load, removed on exit; sweeps what dead loads left beside it."""
    parent = work_root() / dag_id / table
    parent.mkdir(parents=True, exist_ok=True)
    with (parent / LOCK_NAME).open("a") as sweep_lock:
        fcntl.flock(sweep_lock, fcntl.LOCK_EX)  # one process at a time sweeps and claims
        for stale in parent.iterdir():
            if stale.is_dir() and not stale.is_symlink() and not _held(stale):
                shutil.rmtree(stale, ignore_errors=True)
        # A folder of its own, even beside another load of the same table and date (a rerun
        # racing a backfill, two stacks on one machine): the other's end never removes it.
        folder = Path(tempfile.mkdtemp(prefix=f"{run_date}-", dir=parent))
        own_lock = (folder / LOCK_NAME).open("a")
        fcntl.flock(own_lock, fcntl.LOCK_EX)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        own_lock.close()
