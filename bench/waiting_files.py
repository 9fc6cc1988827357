"""``make bench-waits``: 1,000 tenant projects waiting for their files at once, as Airflow's triggerer
holds them, and what their checks cost in CPU.

The deferred wait (``channelhub.sftp.trigger.TenantFileTrigger``) runs in the triggerer's event
loop and holds no worker or pool slot; here 1,000 of them run in one event loop, as one
triggerer process would run them (sharing one SSH connection: ``channelhub.sftp.shared``),
against the local SFTP server (its own process, so its CPU is not counted), with no file ever
arriving, for a few check rounds. Reported: the CPU seconds the loop spent per round of 1,000
checks, against the baseline measured in the same run, the same 1,000 checks made one by one
through the sensor's synchronous hook (what each reschedule-mode poke did, before the task
start-up it also paid).
"""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.__main__ import WORK
from channelhub.settings import connection_env
from channelhub.sftp.folder import TenantFolder
from channelhub.sftp.hook import TenantSftpHook
from channelhub.sftp.trigger import TenantFileTrigger, deadline_after
from channelhub_dev.stack import free_port

PROJECTS = int(os.environ.get("CHANNELHUB_BENCH_WAITS", "1000"))
ROUNDS = 3
INTERVAL = 20.0  # seconds between one trigger's checks; a tenant's real poke_interval is minutes
CONN_ID = "bench_sftp"
NAME = "store-2026-11-20.tsv"

SERVER = """
import sys, threading
from pathlib import Path
from channelhub_dev.sftp_server import SftpServer
server = SftpServer(port=int(sys.argv[2]))
server.add_user("hub", "hub-pw", Path(sys.argv[1]))
server.start()
print("ready", flush=True)
threading.Event().wait()
"""


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def folders(root: Path) -> list[str]:
    names = [f"irism-t{i:04d}/main" for i in range(PROJECTS)]
    for name in names:
        (root / name).mkdir(parents=True, exist_ok=True)
    return names


async def waiting(names: list[str]) -> float:
    """CPU seconds per round of checks while every project's trigger waits."""
    seconds = INTERVAL * ROUNDS
    triggers = [TenantFileTrigger(sftp_conn_id=CONN_ID, folder=name, name=NAME, settle=0, poke_interval=INTERVAL,
                                  deadline=deadline_after(seconds)) for name in names]

    async def first_event(trigger: TenantFileTrigger) -> dict:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("no event")

    start = cpu()
    events = await asyncio.gather(*(first_event(t) for t in triggers))
    spent = cpu() - start
    assert all(e["status"] == "timeout" for e in events), {e["status"] for e in events}
    checks_per_trigger = ROUNDS + 1  # one at the start, one per interval
    return spent / checks_per_trigger


def synchronous(names: list[str]) -> float:
    """CPU seconds for one round of the same checks, each a session of the sensor's hook."""
    start = cpu()
    for name in names:
        hook = TenantSftpHook(CONN_ID, name)
        with hook.session() as sftp:
            assert TenantFolder(sftp, hook.route.folder).locate(NAME) is None
    return cpu() - start


def main() -> None:
    root = WORK / "waits" / "sftp"
    root.mkdir(parents=True, exist_ok=True)
    names = folders(root)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(root), str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        key, value = connection_env({"conn_id": CONN_ID, "conn_type": "sftp", "conn_host": "127.0.0.1",
                                     "conn_port": port, "conn_login": "hub", "conn_password": "hub-pw",
                                     "conn_extra": {"no_host_key_check": True}})
        os.environ[key] = value
        sync = synchronous(names)
        wall = time.perf_counter()
        deferred = asyncio.run(waiting(names))
        wall = time.perf_counter() - wall
    finally:
        server.terminate()
        server.wait(30)
    print(f"Waiting    {PROJECTS} projects deferred in one event loop for {wall:5.0f}s: "
          f"{deferred:5.2f} CPU s per round of {PROJECTS} checks | the same checks through the sensor's hook "
          f"{sync:5.2f} CPU s -> {deferred / sync:4.2f}x (goal <= 2 CPU s a round); worker and pool slots held "
          "while waiting: 0")


if __name__ == "__main__":
    main()
