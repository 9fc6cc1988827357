"""The ledger (outbox): every business document that enters the hub, and its delivery to each target."""

from channelhub.ledger.documents import DocumentKind, NewDocument, message_id
from channelhub.ledger.store import Delivery, DeliveryOutcome, DeliveryStatus, Ledger, RecordResult

__all__ = ["Delivery", "DeliveryOutcome", "DeliveryStatus", "DocumentKind", "Ledger", "NewDocument",
           "RecordResult", "message_id"]
