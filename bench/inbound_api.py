"""``make bench-api``: the push API's cost for a partner, with and without a login flood.

The API runs in its own process (uvicorn on 127.0.0.1, SQLite ledger), as on the
api-server; this process plays the partners. Figures, each a ratio against a baseline
measured in the same run:

1. a partner's repeat call (its password verified before: no scrypt) against its first
   call (one scrypt check): what the verified-password cache saves;
2. the same repeat call while 20 threads send wrong passwords from the same address as
   fast as they are answered, against the same call on an idle API: what a flood costs a
   partner (before the fix it was 5.3 s).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import yaml

from channelhub.credentials import CredentialStore
from channelhub.sqldb import create_engine
from channelhub_dev.stack import free_port

CLIENT = {"client": "bench", "channels": [
    {"id": "shop", "type": "MARKETPLACE", "connector": "push_api", "conn_id": "bench_shop"},
    {"id": "erp", "type": "ERP", "connector": "http_erp", "conn_id": "bench_erp",
     "mapping": {"shop": {"erp_channel_name": "SHOP"}}}]}
ORDER = {"orderCode": "B-1", "locationCode": "WH1", "orderTime": "2026-11-20T10:00:00Z", "orderItems": [
    {"orderItemCode": "B-1-1", "channelSkuCode": "SKU1", "orderedQuantity": 1, "sellingPricePerUnit": 10}]}
CALLS = 60
FLOOD_THREADS = 20


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


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="channelhub-bench-api-"))
    (folder / "clients").mkdir()
    (folder / "clients" / "bench.yaml").write_text(yaml.safe_dump(CLIENT))
    engine = create_engine(f"sqlite:///{folder}/hub.db")
    credential = CredentialStore(engine).generate("bench", "shop")
    engine.dispose()
    headers = {"authUsername": credential.username, "authPassword": credential.password,
               "authDomainName": credential.domain, "Content-Type": "application/json"}
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "bench.inbound_api", "serve", str(folder), str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # one log line per refusal
    url = f"http://127.0.0.1:{port}/v1/outward-orders"
    try:
        session = requests.Session()
        deadline = time.monotonic() + 60
        while True:
            try:
                first = latency(session, url, headers)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        idle = statistics.median(latency(session, url, headers) for _ in range(CALLS))
        stop = threading.Event()
        sent = [0]

        def flood(index: int) -> None:
            with requests.Session() as attacker:
                while not stop.is_set():
                    attacker.post(url, data="{}", timeout=120,
                                  headers={**headers, "authPassword": f"wrong-{index}-{sent[0]}"})
                    sent[0] += 1

        with ThreadPoolExecutor(FLOOD_THREADS) as pool:
            for index in range(FLOOD_THREADS):
                pool.submit(flood, index)
            time.sleep(1)  # the flood is under way
            flooded = statistics.median(latency(session, url, headers) for _ in range(CALLS))
            stop.set()
    finally:
        server.terminate()
        server.wait(30)
    print(f"first call (scrypt) {first * 1000:.1f} ms; verified repeat call {idle * 1000:.1f} ms: "
          f"{first / idle:.1f}x cheaper once verified")
    print(f"verified repeat call under a {FLOOD_THREADS}-way wrong-password flood ({sent[0]} wrong logins sent): "
          f"{flooded * 1000:.1f} ms, {flooded / idle:.2f}x the idle call")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(*sys.argv[2:4])
    else:
        sys.exit(main())
