"""Business documents as the ledger keeps them: a kind, a stable key, a stable messageId.

The key says what the document *is* (for example the order ``O-1`` at location ``WH1``),
so the same document arriving twice, by a repeated API call or a rerun task, is one
ledger row. The messageId is derived from client and key, never random, so every
posting of a document carries the same messageId and the ERP can de-duplicate on it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from channelhub.config.clients import ChannelJobName
from channelhub.config.sync_flows import LocationJobName

MESSAGE_ID_NAMESPACE = uuid.UUID("4b6f3c0e-52a1-4bd0-9a43-7c1d6a0f2e11")


class DocumentKind(StrEnum):
    OUTWARD_EVENT = "OUTWARD_EVENT"
    INWARD_ORDER = "INWARD_ORDER"
    INWARD_COMPLETE = "INWARD_COMPLETE"
    GATE_ENTRY = "GATE_ENTRY"
    RETURN_EVENT = "RETURN_EVENT"
    INVENTORY = "INVENTORY"
    SHOP_ORDER = "SHOP_ORDER"
    # Pushed by an ERP that cannot be polled; kept in the ledger, not posted anywhere yet.
    ERP_RECEIPT = "ERP_RECEIPT"
    ERP_STOCK_ADJUSTMENT = "ERP_STOCK_ADJUSTMENT"
    ERP_SHIPMENT = "ERP_SHIPMENT"

    @property
    def job(self) -> ChannelJobName | LocationJobName | None:
        """The job that takes this kind to the ERP; None for documents the ERP is not sent."""
        return JOB_OF_KIND.get(self)


JOB_OF_KIND = {
    DocumentKind.OUTWARD_EVENT: ChannelJobName.SALES_POSTING,
    DocumentKind.INWARD_COMPLETE: ChannelJobName.INWARDS_POSTING,
    DocumentKind.GATE_ENTRY: ChannelJobName.INWARDS_GATE_ENTRY_POSTING,
    DocumentKind.RETURN_EVENT: ChannelJobName.RETURNS_POSTING,
    DocumentKind.SHOP_ORDER: LocationJobName.ORDER_SYNC,
}


@dataclass(frozen=True)
class NewDocument:
    """A document about to enter the ledger, from the push API or a tenant file."""

    kind: DocumentKind
    key: str
    channel: str
    payload: dict[str, Any]
    origin: str

    @property
    def canonical_payload(self) -> str:
        return json.dumps(self.payload, sort_keys=True, separators=(",", ":"), default=str)

    @property
    def payload_sha(self) -> str:
        return hashlib.sha256(self.canonical_payload.encode()).hexdigest()


def key_part(code: str) -> str:
    """One code as a part of a document key: ``%`` and ``:`` escaped, so keys joined from several
    codes never collide (order ``C`` at location ``A:B`` against order ``B:C`` at ``A``); a code
    without either character stays as it is, so keys made before the escaping keep their value."""
    return code.replace("%", "%25").replace(":", "%3A")


def code_of(part: str) -> str:
    """The code a key part was made from (the inverse of :func:`key_part`)."""
    return part.replace("%3A", ":").replace("%25", "%")


def document_key(kind: str, *codes: str) -> str:
    """``kind:code:code...`` with each code escaped by :func:`key_part`."""
    return ":".join([kind, *(key_part(code) for code in codes)])


def message_id(client: str, key: str) -> str:
    return str(uuid.uuid5(MESSAGE_ID_NAMESPACE, f"{client}/{key}"))


def content_key(payload: dict[str, Any]) -> str:
    """A short digest of a payload, for document kinds whose every distinct call is a new document."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]
