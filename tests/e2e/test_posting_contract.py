"""The posting contract, the same tests for every connector that can post documents: the local
ERP server (``http_erp``: the faults a real ERP cannot be made to produce are tested in
test_erp_posting.py) and a real Tryton (``tryton``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from channelhub.connectors.contract import Ability, DocumentPoster, Outcome
from channelhub.connectors.http_erp import ErpEndpoint, ErpPoster
from channelhub.connectors.registry import connectors
from channelhub.connectors.tryton import TrytonPoster, TrytonServer, TrytonSession
from channelhub_dev.erp_server import POSTINGS, ErpServer
from channelhub_dev.stack import free_port
from channelhub_dev.tryton import ADMIN_PASSWORD, DATABASE, TrytonProcess

pytestmark = pytest.mark.e2e


@dataclass
class Partner:
    """A running partner, a poster to it, one to where nothing answers, and how many copies it holds."""

    poster: DocumentPoster
    down: DocumentPoster
    copies: Callable[[str], int]


@pytest.fixture(scope="module")
def tryton_process(tmp_path_factory) -> Iterator[TrytonProcess]:
    process = TrytonProcess(tmp_path_factory.mktemp("tryton-contract")).start()
    yield process
    process.stop()


@pytest.fixture(params=sorted(name for name, spec in connectors().items() if Ability.POST_DOCUMENTS in spec.abilities))
def partner(request) -> Iterator[Partner]:
    nowhere = f"http://127.0.0.1:{free_port()}"
    if request.param == "http_erp":
        server = ErpServer().start()
        settings = {"timeout": 5.0, "max_attempts": 2, "backoff": 0.05}
        yield Partner(ErpPoster(ErpEndpoint(url=server.base_url + POSTINGS, headers={"Authorization": "static-token"},
                                            **settings)),
                      ErpPoster(ErpEndpoint(url=nowhere + POSTINGS, headers={}, **settings)),
                      lambda message_id: int(message_id in server.state.accepted))
        server.stop()
    else:
        tryton = request.getfixturevalue("tryton_process")
        session = TrytonSession(TrytonServer(tryton.url, DATABASE, "admin", ADMIN_PASSWORD))

        def copies(message_id: str) -> int:
            return len(session.call("sale.sale", "search", [("reference", "like", f"%:{message_id}")], 0, None, None))

        yield Partner(TrytonPoster(session),
                      TrytonPoster(TrytonSession(TrytonServer(nowhere, DATABASE, "admin", "x", timeout=5))), copies)


def body(order: str) -> dict:
    return {"eventType": "OUTWARD_ORDER_CREATE", "orderCode": order, "locationCode": "WH1", "orderType": "SALE",
            "orderTime": "2026-11-20T10:00:00Z", "messageId": f"contract-{order}", "channelName": "AMAZON_INDIA",
            "orderItems": [{"orderItemCode": f"{order}-1", "channelSkuCode": "111", "orderedQuantity": 1,
                            "cancelledQuantity": 0, "sellingPricePerUnit": 499.0}]}


def test_a_document_is_sent_once_however_often_it_is_posted(partner):
    document = body(f"C-{id(partner)}")
    assert partner.poster.post(document).outcome is Outcome.SENT
    assert partner.poster.post(document).outcome is Outcome.SENT  # a rerun after a lost answer
    assert partner.copies(document["messageId"]) == 1


def test_a_partner_that_does_not_answer_is_retried_later(partner):
    result = partner.down.post(body("C-down"))
    assert result.outcome is Outcome.RETRY and result.error
