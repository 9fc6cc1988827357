"""``tryton``: ledger documents into a real Tryton ERP over its JSON-RPC API (never in-process).

The connection (type ``channelhub_tryton``) holds the server in ``host`` (``http://host:port``
or host with ``port``), the database in ``schema``, the user in ``login`` and ``password``;
``extra``: ``warehouse`` (code, default ``WH``), ``timeout`` (seconds, 60); any other extra is
refused, naming it.

What each document becomes (found by code: products by their code = the SKU, parties by
their code = the ERP channel name for sales and returns, ``partnerCode`` for receipts):

- ``OUTWARD_ORDER_CREATE``: a sale with its lines, quoted and confirmed;
- ``OUTWARD_ORDER_COMPLETE`` (and a tenant's daily sales): that sale (made now if the order
  was never created) with its customer shipment done;
- ``OUTWARD_ORDER_CANCEL``: the order's sale cancelled (while not yet confirmed);
- ``SHIPMENT_DISPATCH`` / ``SHIPMENT_DELIVER``: the order's confirmed sale, its shipment done;
- ``INWARD_ORDER_COMPLETE`` (INWARDS_POSTING): a supplier receipt from ``partnerCode``,
  received and done (the goods are in storage);
- a closed gate entry (INWARDS_GATE_ENTRY_POSTING): a supplier receipt of the QC-passed
  quantities, received only (the goods are at the gate, not yet put away);
- ``RETURN_ORDER_COMPLETE`` / ``COMPLETE`` (RETURNS_POSTING): a customer return from the
  channel's party, received and done; ``RETURN_ORDER_CREATE`` makes it as a draft;
- other events (``OUTWARD_ORDER_PARTIAL_CANCEL``, return updates and cancels): REJECTED with
  the reason (no such posting in this connector).

Tryton warns that such stock moves have no origin (no purchase or sale behind them); the
hub answers those warnings yes, as a user would in the client, since the document it posts
is the origin.

Tryton does not de-duplicate: every ERP document carries ``<channel>:<order>:<messageId>``
in its ``reference`` and is looked up before anything is created, so a rerun after a lost
answer or a killed task finds the document instead of making a second one.

Sessions: a login gives a session that Tryton expires when idle; a call refused with 401 or
403 logs in again once. A refused login (a wrong password) raises ``PartnerAuthFailed``: the
task fails and the documents stay PENDING. A Tryton that is down (refused, timeout, 5xx) is
RETRY; a missing product or party, or a value Tryton refuses, is that document's REJECTED
with the reason (the SKU named), never the batch's.

The ERP side of the sync flows (sellable stock, orders by APIcenter's customer rules,
products, customers read and written by email) is :mod:`.erp_side`. This module is the
connector's declaration (no Airflow import); its hook, session, poster and ERP side are
reachable from here by name.
"""

from __future__ import annotations

from pydantic import Field

from channelhub.connectors.contract import Ability, ConnectionExtras, Connector
from channelhub.connectors.http_common import PositiveFloat
from channelhub.connectors.lazy import lazy_exports


class TrytonExtras(ConnectionExtras):
    warehouse: str = Field(default="WH", min_length=1, max_length=60)
    timeout: PositiveFloat = 60.0


CONNECTOR = Connector(
    name="tryton",
    hook_class="channelhub.connectors.tryton.hook.TrytonHook",
    connection_type="channelhub_tryton",
    hook_name="Channel Hub Tryton ERP",
    abilities=frozenset({Ability.POST_DOCUMENTS, Ability.READ_STOCK, Ability.CREATE_ORDERS, Ability.READ_PRODUCTS,
                         Ability.READ_CUSTOMERS, Ability.WRITE_CUSTOMERS, Ability.TEST_CREDENTIALS}),
    description="documents into a Tryton ERP over its JSON-RPC API",
    extras=TrytonExtras,
    ui_fields={"hidden-fields": [], "relabeling": {"host": "Tryton URL (or host)", "schema": "Database"}},
    extra_fields={"orders": frozenset({"comment"})},  # the sale's (or invoice's) comment
)

_PUBLIC = {
    "TrytonHook": "hook", "TrytonServer": "client", "TrytonSession": "client", "TrytonRefused": "client",
    "TrytonUnavailable": "client", "TrytonPoster": "poster", "TrytonErpSide": "erp_side",
}
__getattr__ = lazy_exports(__name__, _PUBLIC)
__all__ = ["CONNECTOR", "TrytonExtras", *_PUBLIC]
