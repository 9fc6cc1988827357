"""Where a tenant's files are on the SFTP server, and where they go once taken.

A file arrives in the project folder; once processed it moves to ``processed/`` or, with
an ``.errors.tsv`` report beside it, to ``failed/``. Looking in all three places is what
lets a rerun or a backfill of an old date find the file it processed before.

The tenant controls this folder, so nothing in it is trusted: every path the hub reads,
moves or writes is checked with ``lstat`` from the folder's top down, and a symbolic link
(or a folder where a file belongs) is refused with :class:`UnsafeTenantPath` rather than
followed. SFTP has no ``O_NOFOLLOW``, so a tenant racing the hub between the check and the
use remains possible; docs/security.md says how the production server closes that gap.

Finding a file is written once, as :func:`locate_plan`, a generator that asks for each path
it must look at: the sensor's session (paramiko) and the deferred wait's trigger (asyncssh)
each answer its questions with their own ``lstat``, so both apply exactly the same checks.
"""

from __future__ import annotations

import posixpath
import re
import stat
import time
from collections.abc import Generator
from dataclasses import dataclass
from datetime import date

from paramiko import SFTPAttributes, SFTPClient

from channelhub.exceptions import UnsafeTenantPath

PROCESSED, FAILED = "processed", "failed"
ERRORS_SUFFIX = ".errors.tsv"
#: An archived file or its error report, as :func:`file_name` names them.
ARCHIVED_NAME = re.compile(r"(?P<file>(?P<table>[a-z_]+)-(?P<day>\d{4}-\d{2}-\d{2})\.tsv)(\.errors\.tsv)?")
#: The most of an error report read back for an email (10,000 issues of a few hundred bytes fit).
MAX_REPORT_BYTES = 8 * 1024 * 1024


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

    def settled(self, settle: float) -> bool:
        """Whether the file can be taken: archived by an earlier run, or unchanged for ``settle``
        seconds (a file modified more recently is taken to be still uploading)."""
        return self.archived or self.age() >= settle


@dataclass(frozen=True)
class Entry:
    """What ``lstat`` says of a path: its mode (with the file type bits), size and mtime."""

    mode: int
    size: int
    mtime: float


#: Yields each path to look at, is sent its :class:`Entry` (None when absent), returns the file found.
LocatePlan = Generator[str, "Entry | None", "RemoteFile | None"]


def checked(path: str, entry: Entry | None, want: int) -> Entry | None:
    """``entry`` when it is a ``want`` (S_IFREG or S_IFDIR), None when absent; refuses links and misfits."""
    if entry is None:
        return None
    if stat.S_ISLNK(entry.mode):
        raise UnsafeTenantPath(path, "is a symbolic link")
    if stat.S_IFMT(entry.mode) != want:
        raise UnsafeTenantPath(path, "is not a " + ("folder" if want == stat.S_IFDIR else "regular file"))
    return entry


def locate_plan(folder: str, name: str) -> LocatePlan:
    """The newest copy of ``name``: a fresh upload first, then the archived one from an earlier run.

    Every part of the project folder and each place is checked on the way down, so a link
    anywhere raises :class:`UnsafeTenantPath` instead of being followed.
    """
    path = ""
    for part in folder.split("/"):
        path = posixpath.join(path, part)
        if checked(path, (yield path), stat.S_IFDIR) is None:
            return None
    for subfolder, archived in (("", False), (PROCESSED, True), (FAILED, True)):
        if subfolder:
            place = posixpath.join(folder, subfolder)
            if checked(place, (yield place), stat.S_IFDIR) is None:
                continue
        candidate = posixpath.join(folder, subfolder, name)
        entry = checked(candidate, (yield candidate), stat.S_IFREG)
        if entry is not None:
            return RemoteFile(candidate, entry.size, entry.mtime, archived)
    return None


class TenantFolder:
    """One project folder on an open SFTP session; never follows a link."""

    def __init__(self, sftp: SFTPClient, folder: str):
        self.sftp = sftp
        self.folder = folder

    def _lstat(self, path: str) -> Entry | None:
        try:
            attributes: SFTPAttributes = self.sftp.lstat(path)
        except FileNotFoundError:
            return None
        except OSError as exc:  # paramiko maps "no such file" to IOError(errno 2)
            if getattr(exc, "errno", None) == 2:
                return None
            raise
        return Entry(attributes.st_mode or 0, attributes.st_size or 0, float(attributes.st_mtime or 0))

    def _kind(self, path: str, want: int) -> Entry | None:
        return checked(path, self._lstat(path), want)

    def _folders_exist(self, subfolder: str = "") -> bool:
        """Whether the project folder (and ``subfolder`` in it) exist, each part a real folder."""
        path = ""
        for part in [*self.folder.split("/"), *([subfolder] if subfolder else [])]:
            path = posixpath.join(path, part)
            if self._kind(path, stat.S_IFDIR) is None:
                return False
        return True

    def _file(self, subfolder: str, name: str) -> Entry | None:
        if not self._folders_exist(subfolder):
            return None
        return self._kind(posixpath.join(self.folder, subfolder, name), stat.S_IFREG)

    def locate(self, name: str) -> RemoteFile | None:
        """See :func:`locate_plan`."""
        plan = locate_plan(self.folder, name)
        try:
            path = next(plan)
            while True:
                path = plan.send(self._lstat(path))
        except StopIteration as done:
            return done.value

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

    def expire_archived(self, table: str, before: date, keep: str) -> list[str]:
        """Removes the table's archived files (and their error reports) dated before ``before``,
        except ``keep`` (the file this run just archived); the paths removed.

        Only regular files named as the hub names them are touched; a link is removed as a link,
        never what it points at."""
        removed = []
        for subfolder in (PROCESSED, FAILED):
            if not self._folders_exist(subfolder):
                continue
            path = posixpath.join(self.folder, subfolder)
            for entry in self.sftp.listdir_attr(path):
                named = ARCHIVED_NAME.fullmatch(entry.filename)
                if named is None or named["table"] != table or not stat.S_ISREG(entry.st_mode or 0):
                    continue
                try:
                    day = date.fromisoformat(named["day"])
                except ValueError:
                    continue
                if day < before and named["file"] != keep:
                    self.sftp.remove(posixpath.join(path, entry.filename))
                    removed.append(posixpath.join(path, entry.filename))
        return removed

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
        """The report the hub wrote, at most ``MAX_REPORT_BYTES`` of it: the tenant can replace the
        file, and what goes into an email must stay small whatever it holds."""
        if self._file(FAILED, name + ERRORS_SUFFIX) is None:
            return None
        with self.sftp.open(posixpath.join(self.folder, FAILED, name + ERRORS_SUFFIX), "rb") as handle:
            return handle.read(MAX_REPORT_BYTES)
