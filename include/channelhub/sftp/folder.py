"""Where a tenant's files are on the SFTP server, and where they go once taken.

A file arrives in the project folder; once processed it moves to ``processed/`` or, with
an ``.errors.tsv`` report beside it, to ``failed/``. Looking in all three places is what
lets a rerun or a backfill of an old date find the file it processed before.
"""

from __future__ import annotations

import posixpath
import stat
import time
from dataclasses import dataclass
from datetime import date

from paramiko import SFTPClient

PROCESSED, FAILED = "processed", "failed"
ERRORS_SUFFIX = ".errors.tsv"


def file_name(table: str, run_date: date) -> str:
    return f"{table}-{run_date.isoformat()}.tsv"


@dataclass(frozen=True)
class RemoteFile:
    path: str
    size: int
    mtime: float
    archived: bool

    def age(self) -> float:
        return time.time() - self.mtime


class TenantFolder:
    """One project folder on an open SFTP session."""

    def __init__(self, sftp: SFTPClient, folder: str):
        self.sftp = sftp
        self.folder = folder

    def _stat(self, path: str):
        try:
            attributes = self.sftp.stat(path)
        except FileNotFoundError:
            return None
        except OSError as exc:  # paramiko maps "no such file" to IOError(errno 2)
            if getattr(exc, "errno", None) == 2:
                return None
            raise
        return attributes if stat.S_ISREG(attributes.st_mode or 0) else None

    def locate(self, name: str) -> RemoteFile | None:
        """The newest copy: a fresh upload first, then the archived one from an earlier run."""
        for subfolder, archived in (("", False), (PROCESSED, True), (FAILED, True)):
            path = posixpath.join(self.folder, subfolder, name)
            attributes = self._stat(path)
            if attributes is not None:
                return RemoteFile(path, attributes.st_size or 0, float(attributes.st_mtime or 0), archived)
        return None

    def _ensure(self, subfolder: str) -> str:
        path = posixpath.join(self.folder, subfolder)
        try:
            self.sftp.stat(path)
        except OSError:
            self.sftp.mkdir(path)
        return path

    def archive(self, name: str, succeeded: bool) -> str | None:
        """Move the file to processed/ or failed/, keeping only the newest copy."""
        found = self.locate(name)
        if found is None:
            return None
        target_dir = self._ensure(PROCESSED if succeeded else FAILED)
        target = posixpath.join(target_dir, name)
        if found.path != target:
            for stale in (target, *self._archived_paths(name)):
                if stale != found.path and self._stat(stale) is not None:
                    self.sftp.remove(stale)
            self.sftp.posix_rename(found.path, target)
        return target

    def write_error_report(self, name: str, report: bytes | None) -> None:
        """Put ``failed/<name>.errors.tsv`` for the tenant to read, or remove a stale one."""
        path = posixpath.join(self._ensure(FAILED), name + ERRORS_SUFFIX)
        if report is not None:
            with self.sftp.open(path, "wb") as handle:
                handle.write(report)
        elif self._stat(path) is not None:
            self.sftp.remove(path)

    def _archived_paths(self, name: str) -> list[str]:
        return [posixpath.join(self.folder, sub, name) for sub in (PROCESSED, FAILED)]

    def read_error_report(self, name: str) -> bytes | None:
        report = posixpath.join(self.folder, FAILED, name + ERRORS_SUFFIX)
        if self._stat(report) is None:
            return None
        with self.sftp.open(report, "rb") as handle:
            return handle.read()
