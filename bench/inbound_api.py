"""``make bench-api``: the push API's cost for a partner, with and without a login flood.

The API runs in its own process (uvicorn on 127.0.0.1, SQLite ledger), as on the
api-server; this process plays the partners. Figures, each a ratio against a baseline
measured in the same run:

1. a partner's repeat call (its password verified before: no scrypt) against its first
   call (one scrypt check): what the verified-password cache saves;
2. the same repeat call while 20 clients (in 4 processes of their own, 5 threads each) send
   wrong passwords from the same address as fast as they are answered, against the same call
   on an idle API: what a flood costs a partner (before the login throttle it was 5.3 s; with
   the throttle answering 429 at once, 10-20x; now a throttled caller's 429 is held back a
   second, so the flood sends about 20 calls a second);
3. a verified **signed** call (HMAC-SHA256 over method, path, time, nonce and body) against
   a verified unsigned call, interleaved: goal <= 1.2x;
4. a verified call of a **scoped** credential (allow list, resources, methods) against one of
   an unscoped credential, interleaved: what the grant's checks add, goal <= 5 %;
5. with Redis on 127.0.0.1:6379, a second API process sharing the throttles through it: the
   repeat call while the 20-way flood is spread over both processes, against the idle call:
   goal <= 4x.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
import yaml

from channelhub.credentials import CredentialStore, Grant
from channelhub.credentials.grant import parse_methods, parse_networks, parse_resources
from channelhub.credentials.signing import signature
from channelhub.hubdb.migrate import upgrade as upgrade_hub_db
from channelhub.inbound.throttle import REDIS_URL_ENV
from channelhub.sqldb import create_engine
from channelhub_dev.stack import free_port

CLIENT = {"client": "bench", "channels": [
    {"id": "shop", "type": "MARKETPLACE", "connector": "push_api", "conn_id": "bench_shop"},
    {"id": "erp", "type": "ERP", "connector": "http_erp", "conn_id": "bench_erp",
     "mapping": {"shop": {"erp_channel_name": "SHOP"}}}]}
ORDER = {"orderCode": "B-1", "locationCode": "WH1", "orderTime": "2026-11-20T10:00:00Z", "orderItems": [
    {"orderItemCode": "B-1-1", "channelSkuCode": "SKU1", "orderedQuantity": 1, "sellingPricePerUnit": 10}]}
CALLS = 60
PAIRS = 200  # interleaved calls per side where two credentials are compared
FLOOD_THREADS = 20
FLOOD_PROCESSES = 4
REDIS = "redis://127.0.0.1:6379/14"
PATH = "/v1/outward-orders"


def serve(folder: str, port: str) -> None:
    """The API in this process, until killed (run as ``python -m bench.inbound_api serve``)."""
    import uvicorn

    from channelhub.inbound.app import create_app

    engine = create_engine(f"sqlite:///{folder}/hub.db")
    app = create_app(lambda: engine, lambda client, jobs: None, clients_dir=Path(folder) / "clients")
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="error")


def latency(session: requests.Session, url: str, headers: dict[str, str]) -> float:
    start = time.perf_counter()
    answer = session.post(url, data=json.dumps(ORDER), headers=headers, timeout=120)
    elapsed = time.perf_counter() - start
    assert answer.status_code == 200, answer.text
    return elapsed


def headers_of(credential) -> dict[str, str]:
    return {"authUsername": credential.username, "authPassword": credential.password,
            "authDomainName": credential.domain, "Content-Type": "application/json"}


def signed(headers: dict[str, str], secret: str) -> Callable[[], dict[str, str]]:
    """Fresh signature headers for each call (a nonce is used once)."""
    body = json.dumps(ORDER).encode()

    def make() -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        return {**headers, "X-Hub-Timestamp": timestamp, "X-Hub-Nonce": nonce,
                "X-Hub-Signature": signature(secret, "POST", PATH, timestamp, nonce, body)}

    return make


def start(folder: Path, redis: str | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, REDIS_URL_ENV: redis or ""}
    server = subprocess.Popen([sys.executable, "-m", "bench.inbound_api", "serve", str(folder), str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # one log line per refusal
    return server, f"http://127.0.0.1:{port}{PATH}"


def first_call(session: requests.Session, url: str, headers: dict[str, str]) -> float:
    deadline = time.monotonic() + 60
    while True:
        try:
            return latency(session, url, headers)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def interleaved(session: requests.Session, url: str, one: Callable[[], dict[str, str]],
                other: Callable[[], dict[str, str]]) -> tuple[float, float]:
    """Medians of PAIRS calls of each, alternating, so both meet the same machine."""
    ones, others = [], []
    for _ in range(PAIRS):
        ones.append(latency(session, url, one()))
        others.append(latency(session, url, other()))
    return statistics.median(ones), statistics.median(others)


def _flood(targets: list[str], headers: dict[str, str], threads: int, stop: Any, sent: Any) -> None:
    """One flooding process: ``threads`` clients sending wrong passwords to ``targets`` until ``stop``."""
    def flood(index: int) -> None:
        with requests.Session() as attacker:
            while not stop.is_set():
                attacker.post(targets[index % len(targets)], data="{}", timeout=120,
                              headers={**headers, "authPassword": f"wrong-{os.getpid()}-{index}-{sent.value}"})
                with sent.get_lock():
                    sent.value += 1

    with ThreadPoolExecutor(threads) as pool:
        for index in range(threads):
            pool.submit(flood, index)


def flooded_call(session: requests.Session, url: str, headers: dict[str, str], targets: list[str]) -> tuple[float, int]:
    """The partner's median call while FLOOD_THREADS clients, in FLOOD_PROCESSES processes of their own
    (so they do not share this process's interpreter lock with the partner), send wrong passwords to
    ``targets`` in turn."""
    context = multiprocessing.get_context("fork")
    stop, sent = context.Event(), context.Value("i", 0)
    flooders = [context.Process(target=_flood, args=(targets, headers, FLOOD_THREADS // FLOOD_PROCESSES, stop, sent))
                for _ in range(FLOOD_PROCESSES)]
    for flooder in flooders:
        flooder.start()
    try:
        time.sleep(1)  # the flood is under way
        flooded = statistics.median(latency(session, url, headers) for _ in range(CALLS))
    finally:
        stop.set()
        for flooder in flooders:
            flooder.join(60)
    return flooded, sent.value


def redis_answers() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS, socket_connect_timeout=1).flushdb()
        return True
    except Exception:
        return False


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="channelhub-bench-api-"))
    (folder / "clients").mkdir()
    (folder / "clients" / "bench.yaml").write_text(yaml.safe_dump(CLIENT))
    engine = create_engine(f"sqlite:///{folder}/hub.db")
    upgrade_hub_db(engine)
    store = CredentialStore(engine)
    headers = headers_of(store.generate("bench", "shop"))
    scoped = headers_of(store.generate("bench", "shop", grant=Grant(
        parse_networks(["127.0.0.1/32", "10.0.0.0/8", "2001:db8::/32"]), parse_resources(["orders", "order-events"]),
        parse_methods(["POST"]))))
    signing = store.generate("bench", "shop", signed=True)
    engine.dispose()
    shared = redis_answers()
    servers = [start(folder, REDIS if shared else None)]
    if shared:
        servers.append(start(folder, REDIS))
    url = servers[0][1]
    try:
        session = requests.Session()
        first = first_call(session, url, headers)
        for _, other_url in servers[1:]:
            first_call(session, other_url, headers)  # verified on the second process too, before any flood
        latency(session, url, scoped)  # each credential's scrypt, once
        latency(session, url, signed(headers_of(signing), signing.signing_secret or "")())
        idle = statistics.median(latency(session, url, headers) for _ in range(CALLS))
        flooded, sent = flooded_call(session, url, headers, [url])
        redis_answers()  # the flood's throttles forgotten: the comparisons take the usual path
        unsigned_ms, signed_ms = interleaved(session, url, lambda: headers,
                                             signed(headers_of(signing), signing.signing_secret or ""))
        plain_ms, scoped_ms = interleaved(session, url, lambda: headers, lambda: scoped)
        if shared:
            redis_answers()
            spread, spread_sent = flooded_call(session, url, headers, [server_url for _, server_url in servers])
    finally:
        for running, _ in servers:
            running.terminate()
            running.wait(30)
    print(f"first call (scrypt) {first * 1000:.1f} ms; verified repeat call {idle * 1000:.1f} ms: "
          f"{first / idle:.1f}x cheaper once verified")
    print(f"verified repeat call under a {FLOOD_THREADS}-way wrong-password flood ({sent} wrong logins sent): "
          f"{flooded * 1000:.1f} ms, {flooded / idle:.2f}x the idle call")
    print(f"verified signed call {signed_ms * 1000:.2f} ms against unsigned {unsigned_ms * 1000:.2f} ms "
          f"(medians of {PAIRS}, interleaved): {signed_ms / unsigned_ms:.2f}x (goal <= 1.2x)")
    print(f"verified call of a scoped credential {scoped_ms * 1000:.2f} ms against unscoped {plain_ms * 1000:.2f} ms: "
          f"{(scoped_ms / plain_ms - 1) * 100:+.1f} % (goal <= 5 %)")
    if shared:
        print(f"two API processes sharing Redis, the {FLOOD_THREADS}-way flood spread over both ({spread_sent} wrong "
              f"logins sent): the partner's call {spread * 1000:.1f} ms, {spread / idle:.2f}x the idle call "
              "(goal <= 4x)")
    else:
        print(f"no Redis answered at {REDIS}: the two-process flood figure was not measured")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(*sys.argv[2:4])
    else:
        sys.exit(main())
