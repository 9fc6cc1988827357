"""A throttled guesser's 429 is held back, so asking again at once floods slowly; the holding is
bounded per process. The guard is driven as the ASGI app it is, with no server and no clock: the
held answer is seen pending, never timed."""

from __future__ import annotations

import anyio

from channelhub.credentials import Refused
from channelhub.inbound.guard import InboundGuard
from channelhub.inbound.throttle import REDIS_URL_ENV

GUESSER = "203.0.113.9"


async def _unreachable(scope, receive, send):
    raise AssertionError("a throttled caller never reaches the routes")


def guard(max_held: int) -> InboundGuard:
    door = InboundGuard(_unreachable, authenticate=lambda *_: Refused("wrong password"),
                        tarpit=3600, max_held=max_held)
    for _ in range(door.per_address.limit):
        door.per_address.failed(GUESSER)
    return door


async def call(door: InboundGuard, answers: list[dict]) -> None:
    scope = {"type": "http", "method": "POST", "path": "/v1/outward-orders", "client": (GUESSER, 4000),
             "headers": [(b"authusername", b"shop"), (b"authpassword", b"guess"), (b"authdomainname", b"acme")]}

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        answers.append(message)

    await door(scope, receive, send)


def test_a_throttled_callers_429_is_held_back_and_past_the_bound_answered_at_once(monkeypatch):
    monkeypatch.delenv(REDIS_URL_ENV, raising=False)  # counted in this process

    async def scenario() -> None:
        door, held, at_once = guard(max_held=1), [], []
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(call, door, held)
            with anyio.fail_after(60):
                while door.held == 0:
                    await anyio.sleep(0.01)
            await call(door, at_once)  # the bound is reached: this one is not held
            assert at_once[0]["status"] == 429 and (b"retry-after", b"300") in at_once[0]["headers"]
            assert held == [] and door.held == 1, "the first guesser is still waiting for its answer"
            tasks.cancel_scope.cancel()
        assert door.held == 0, "a guesser that hangs up frees its place"

    anyio.run(scenario)
