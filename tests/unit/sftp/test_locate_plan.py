"""Where a tenant's file is found, with answers to the plan's lstat questions made up here: the
same plan the sensor (paramiko) and the trigger (asyncssh) drive."""

import stat

import pytest

from channelhub.exceptions import UnsafeTenantPath
from channelhub.sftp.folder import Entry, RemoteFile, locate_plan

DIR, FILE, LINK = stat.S_IFDIR | 0o770, stat.S_IFREG | 0o660, stat.S_IFLNK | 0o777
NAME = "store-2026-11-20.tsv"


def locate(disk: dict[str, int]) -> tuple[RemoteFile | None, list[str]]:
    asked, plan = [], locate_plan("irism-a/main", NAME)
    try:
        path = next(plan)
        while True:
            asked.append(path)
            path = plan.send(Entry(disk[path], 7, 1000.0) if path in disk else None)
    except StopIteration as done:
        return done.value, asked


FOLDERS = {"irism-a": DIR, "irism-a/main": DIR}


def test_a_fresh_upload_wins_over_an_archived_copy():
    found, _ = locate({**FOLDERS, f"irism-a/main/{NAME}": FILE, "irism-a/main/processed": DIR,
                       f"irism-a/main/processed/{NAME}": FILE})
    assert found == RemoteFile(f"irism-a/main/{NAME}", 7, 1000.0, archived=False)


def test_an_earlier_runs_copy_is_found_in_processed_then_failed():
    found, asked = locate({**FOLDERS, "irism-a/main/failed": DIR, f"irism-a/main/failed/{NAME}": FILE})
    assert found is not None and found.archived and found.path == f"irism-a/main/failed/{NAME}"
    assert "irism-a/main/processed" in asked and f"irism-a/main/processed/{NAME}" not in asked


def test_no_project_folder_means_nothing_to_find_and_nothing_more_asked():
    assert locate({"irism-a": DIR}) == (None, ["irism-a", "irism-a/main"])


@pytest.mark.parametrize(("disk", "where", "problem"), [
    ({"irism-a": DIR, "irism-a/main": LINK}, "irism-a/main", "is a symbolic link"),
    ({**FOLDERS, "irism-a/main/processed": LINK}, "irism-a/main/processed", "is a symbolic link"),
    ({**FOLDERS, f"irism-a/main/{NAME}": LINK}, f"irism-a/main/{NAME}", "is a symbolic link"),
    ({**FOLDERS, f"irism-a/main/{NAME}": DIR}, f"irism-a/main/{NAME}", "is not a regular file"),
])
def test_a_link_or_a_misfit_anywhere_on_the_way_is_refused(disk, where, problem):
    with pytest.raises(UnsafeTenantPath, match=f"{where} {problem}"):
        locate(disk)
