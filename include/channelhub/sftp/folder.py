"""Where a tenant's files are on the SFTP server, and where they go once taken.

A file arrives in the project folder; once processed it moves to ``processed/`` or, with
an ``.errors.tsv`` report beside it, to ``failed/``. Looking in all three places is what
lets a rerun or a backfill of an old date find the file it processed before.

The tenant controls this folder, so nothing in it is trusted: every path the hub reads,
moves or writes is checked with ``lstat`` from the folder's top down, and a symbolic link
(or a folder where a file belongs) is refused with :class:`UnsafeTenantPath` rather than
followed. SFTP has no ``O_NOFOLLOW``, so a tenant racing the hub between the check and the
use remains possible; docs/security.md says how the production server closes that gap.
"""

from __future__ import annotations

import posixpath
import stat
import time
from dataclasses import dataclass
from datetime import date

from paramiko import SFTPAttributes, SFTPClient

from channelhub.exceptions import UnsafeTenantPath

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
    """One project folder on an open SFTP session; never follows a link."""

    def __init__(self, sftp: SFTPClient, folder: str):
        self.sftp = sftp
        self.folder = folder

    def _lstat(self, path: str) -> SFTPAttributes | None:
        try:
            return self.sftp.lstat(path)
        except FileNotFoundError:
            return None
        except OSError as exc:  # paramiko maps "no such file" to IOError(errno 2)
            if getattr(exc, "errno", None) == 2:
                return None
            raise

    def _kind(self, path: str, want: int) -> SFTPAttributes | None:
        """``path``'s attributes when it exists as a ``want`` (S_IFREG or S_IFDIR), None when it does
        not exist; refuses links and misfits."""
        attributes = self._lstat(path)
        if attributes is None:
            return None
        mode = attributes.st_mode or 0
        if stat.S_ISLNK(mode):
            raise UnsafeTenantPath(path, "is a symbolic link")
        if stat.S_IFMT(mode) != want:
            raise UnsafeTenantPath(path, "is not a " + ("folder" if want == stat.S_IFDIR else "regular file"))
        return attributes

    def _folders_exist(self, subfolder: str = "", project_checked: bool = False) -> bool:
        """Whether the project folder (and ``subfolder`` in it) exist, each part a real folder;
        ``project_checked`` skips the project folder's own parts, already checked by the caller."""
        parts = [] if project_checked else self.folder.split("/")
        path = self.folder if project_checked else ""
        for part in [*parts, *([subfolder] if subfolder else [])]:
            path = posixpath.join(path, part)
            if self._kind(path, stat.S_IFDIR) is None:
                return False
        return True

    def _file(self, subfolder: str, name: str, project_checked: bool = False) -> SFTPAttributes | None:
        if not self._folders_exist(subfolder, project_checked):
            return None
        return self._kind(posixpath.join(self.folder, subfolder, name), stat.S_IFREG)

    def locate(self, name: str) -> RemoteFile | None:
        """The newest copy: a fresh upload first, then the archived one from an earlier run."""
        if not self._folders_exist():
            return None
        for subfolder, archived in (("", False), (PROCESSED, True), (FAILED, True)):
            attributes = self._file(subfolder, name, project_checked=True)
            if attributes is not None:
                return RemoteFile(posixpath.join(self.folder, subfolder, name), attributes.st_size or 0,
                                  float(attributes.st_mtime or 0), archived)
        return None

    def _ensure(self, subfolder: str) -> str:
        path = posixpath.join(self.folder, subfolder)
        if not self._folders_exist(subfolder):
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
            for sub in (PROCESSED, FAILED):
                stale = posixpath.join(self.folder, sub, name)
                if stale != found.path and self._file(sub, name) is not None:
                    self.sftp.remove(stale)
            # Plain rename, which refuses to replace an existing file: should a tenant swap the
            # checked folder for a link in the instant before this call, no file there is lost.
            self.sftp.rename(found.path, target)
        return target

    def write_error_report(self, name: str, report: bytes | None) -> None:
        """Put ``failed/<name>.errors.tsv`` for the tenant to read, or remove a stale one."""
        path = posixpath.join(self._ensure(FAILED), name + ERRORS_SUFFIX)
        exists = self._kind(path, stat.S_IFREG) is not None
        if report is not None:
            with self.sftp.open(path, "wb") as handle:
                handle.write(report)
        elif exists:
            self.sftp.remove(path)

    def read_error_report(self, name: str) -> bytes | None:
        if self._file(FAILED, name + ERRORS_SUFFIX) is None:
            return None
        with self.sftp.open(posixpath.join(self.folder, FAILED, name + ERRORS_SUFFIX), "rb") as handle:
            return handle.read()
