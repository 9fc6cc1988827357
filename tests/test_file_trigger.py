"""The deferred wait's trigger on its own, against a real SFTP server (asyncssh) on 127.0.0.1:
each event it can fire, and that it applies the same link checks as the sensor's own look."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from channelhub.settings import connection_env
from channelhub.sftp.trigger import FAILURES_ALLOWED, TenantFileTrigger, deadline_after
from channelhub_dev.sftp_server import SftpServer
from channelhub_dev.stack import free_port

NAME = "store-2026-11-20.tsv"
CONN_ID = "trigger_sftp"


@pytest.fixture
def server(tmp_path, monkeypatch):
    server = SftpServer()
    server.add_user("hub", "hub-pw", tmp_path / "sftp")
    (tmp_path / "sftp" / "irism-a" / "main").mkdir(parents=True)
    server.start()
    key, value = connection_env({"conn_id": CONN_ID, "conn_type": "sftp", "conn_host": "127.0.0.1",
                                 "conn_port": server.port, "conn_login": "hub", "conn_password": "hub-pw",
                                 "conn_extra": {"no_host_key_check": True}})
    monkeypatch.setenv(key, value)
    yield server
    server.stop()


def inbox(server: SftpServer):
    return server.users["hub"].root / "irism-a" / "main"


def trigger(seconds: float = 30, settle: float = 0, poke_interval: float = 0.2) -> TenantFileTrigger:
    return TenantFileTrigger(sftp_conn_id=CONN_ID, folder="irism-a/main", name=NAME, settle=settle,
                             poke_interval=poke_interval, deadline=deadline_after(seconds), io_timeout=10)


def first_event(trigger: TenantFileTrigger, within: float = 120) -> dict:
    async def first() -> dict:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(asyncio.wait_for(first(), within))


def test_it_serializes_to_what_the_triggerer_rebuilds():
    classpath, kwargs = trigger().serialize()
    assert classpath == "channelhub.sftp.trigger.TenantFileTrigger"
    assert TenantFileTrigger(**kwargs).serialize() == (classpath, kwargs)


def test_a_settled_file_fires_found(server):
    (inbox(server) / NAME).write_text("store\n")
    event = first_event(trigger())
    assert event == {"status": "found", "path": f"irism-a/main/{NAME}", "size": 6}


def test_a_file_arriving_while_it_waits_is_found(server):
    async def arrive_later() -> dict:
        waiting = asyncio.ensure_future(anext(trigger().run()))
        await asyncio.sleep(1)
        assert not waiting.done(), "nothing to find yet"
        (inbox(server) / "processed").mkdir()
        (inbox(server) / "processed" / NAME).write_text("archived\n")  # an earlier run's copy counts
        return (await asyncio.wait_for(waiting, 120)).payload

    assert asyncio.run(arrive_later())["path"] == f"irism-a/main/processed/{NAME}"


def test_a_file_still_being_written_is_left_until_the_deadline_says_so(server):
    (inbox(server) / NAME).write_text("half a file")
    event = first_event(trigger(seconds=1.5, settle=3600))
    assert event["status"] == "timeout"
    assert f"irism-a/main/{NAME} was still being written" in event["message"]


def test_a_file_that_settles_before_the_deadline_is_found(server):
    path = inbox(server) / NAME
    path.write_text("store\n")
    os.utime(path, (time.time() - 5, time.time() - 5))
    assert first_event(trigger(settle=3))["status"] == "found"


def test_a_file_seen_while_being_written_is_looked_at_again_when_it_settles(server):
    """Not a poke interval later: with a 10-minute poke and a 60 s deadline, only a look at the
    moment the file settles can find it before the deadline."""
    (inbox(server) / NAME).write_text("store\n")
    assert first_event(trigger(seconds=60, settle=2, poke_interval=600))["status"] == "found"


def test_no_file_by_the_deadline_fires_timeout(server):
    event = first_event(trigger(seconds=1))
    assert event == {"status": "timeout", "message": f"no {NAME} in irism-a/main"}


def test_a_link_in_the_tenant_folder_fires_unsafe_at_once(server):
    (inbox(server) / "processed").symlink_to("../../irism-b")
    event = first_event(trigger())
    assert event["status"] == "unsafe" and event["path"] == "irism-a/main/processed"
    assert "does not follow links" in event["message"]


def test_a_server_that_stays_down_fires_error_after_a_few_checks(monkeypatch):
    key, value = connection_env({"conn_id": CONN_ID, "conn_type": "sftp", "conn_host": "127.0.0.1",
                                 "conn_port": free_port(), "conn_login": "hub", "conn_password": "hub-pw"})
    monkeypatch.setenv(key, value)  # nothing listens there
    event = first_event(trigger(seconds=300, poke_interval=0.1))
    assert event["status"] == "error" and CONN_ID in event["message"] and FAILURES_ALLOWED == 3


def test_waits_of_one_connection_share_one_ssh_session_and_survive_it_dropping(server):
    """100 waits in one event loop (as the triggerer holds them) log in once, not once per check;
    when the server drops the connection, the next checks open one new connection and go on."""
    waits = [trigger(seconds=60, poke_interval=0.3) for _ in range(100)]
    events: list[dict] = []

    async def wait_all() -> None:
        async def first(wait: TenantFileTrigger) -> None:
            async for event in wait.run():
                events.append(event.payload)
                return

        tasks = [asyncio.create_task(first(wait)) for wait in waits]
        deadline = time.monotonic() + 60
        while server.logins < 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # several rounds of 100 checks on the one connection
        assert server.logins == 1
        server.drop_connections()
        while server.logins < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        (inbox(server) / NAME).write_text("store\n")
        await asyncio.wait_for(asyncio.gather(*tasks), 60)

    asyncio.run(wait_all())
    assert [e["status"] for e in events] == ["found"] * 100
    assert server.logins == 2  # one reconnection served every wait
    assert not server.open_connections or all(c.is_closed() for c in server.open_connections)
