"""Product sync of one channel: ERP products to the shop, created or updated by SKU.

Only products whose mapped record differs from the last version the shop confirmed are
sent (``full_refresh`` sends all). With ``keep_enriched`` on, the fields the shop enriches
itself (``enriched_fields``, e.g. a long description written by its merchandisers) are
sent only when the hub creates the product; a product the shop already has is updated
without them, so its enrichment is never overwritten. Which products the shop already has
is known from the hub's marks, and, for SKUs the hub never sent, asked of the shop.

With ``unsalable: remove``, a product the hub sent before that the ERP no longer lists as
salable is removed from the shop (only SKUs the hub itself sent, never the shop's own; and
not in a run where some product could not be mapped, whose SKU the hub cannot know).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from channelhub.config.sync_flows import ProductFlow
from channelhub.connectors.contract import ErpSide, ShopSide, WriteResult, WriteStatus
from channelhub.exceptions import MappingError
from channelhub.sync.state import Activity, SyncState
from channelhub.sync.summary import FlowSummary

MARK = "product"
PAGE = 500


@dataclass
class ProductSummary(FlowSummary):
    read: int = 0
    unchanged: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    held: int = 0
    removed: int = 0


def _version(record: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:24]


def sync_products(erp: ErpSide, shop: ShopSide, state: SyncState, flow: ProductFlow,
                  full_refresh: bool = False) -> ProductSummary:
    summary = ProductSummary()
    mapping = flow.compiled()
    sent = state.marks(MARK)
    changed: dict[str, tuple[dict[str, Any], str]] = {}
    listed: set[str] = set()  # the SKUs of every product the ERP sells now
    unknown = 0  # products whose SKU cannot be known this run (the mapping fails for them)
    entries = []
    offset = 0
    while page := erp.products(offset, PAGE):
        offset += PAGE
        summary.read += len(page)
        for product in (p.as_record() for p in page):
            try:
                record = mapping.map(product)
            except MappingError as exc:
                record, problem = None, str(exc)
                unknown += 1
            if record is not None:
                listed.add(str(record["item_no"]))
            verdict = mapping.verdict(product)
            if verdict is None and record is None:
                verdict = ("hold", problem)
            if verdict is not None:
                entries.append(Activity("out", product["code"], "SKIPPED" if verdict[0] == "skip" else "HELD",
                                        verdict[1], product))
                summary.held += verdict[0] == "hold"
                continue
            assert record is not None
            version = _version(record)
            if not full_refresh and sent.get(str(record["item_no"])) == version:
                summary.unchanged += 1
                continue
            changed[str(record["item_no"])] = (record, version)
    state.log(entries)
    if flow.unsalable == "remove" and not unknown:
        _remove(shop, state, sorted(set(sent) - listed), summary)
    if not changed:
        return summary
    in_shop = set(sent)
    if flow.keep_enriched and set(changed) - in_shop:
        in_shop |= shop.products_present(sorted(set(changed) - in_shop))
    outgoing = []
    for sku, (record, _) in changed.items():
        keep = flow.keep_enriched and sku in in_shop
        outgoing.append({k: v for k, v in record.items() if not (keep and k in flow.enriched_fields)})

    def confirmed(results: list[WriteResult]) -> None:
        done, log = {}, []
        for result in results:
            record, version = changed.get(result.key or "", ({}, ""))
            if result.ok:
                done[result.key] = version
                summary.created += result.status is WriteStatus.CREATED
                summary.updated += result.status is WriteStatus.UPDATED
                log.append(Activity("out", result.key or "?", result.status.value.upper(), None, record))
            else:
                summary.failed += 1
                summary.errors.append(f"{result.key}: {result.message}")
                log.append(Activity("out", result.key or "?", "FAILED", f"the shop refused it: {result.message}",
                                    record))
        state.set_marks(MARK, done)
        state.log(log)

    shop.push_products(outgoing, confirmed)
    return summary


def _remove(shop: ShopSide, state: SyncState, skus: list[str], summary: ProductSummary) -> None:
    """Removes from the shop the products the hub sent that the ERP no longer sells; a removal
    the shop confirmed forgets the SKU's mark, so the product is sent anew if it is sold again."""
    if not skus:
        return

    def removed(results: list[WriteResult]) -> None:
        done = [r.key for r in results if r.ok and r.key]
        summary.removed += len(done)
        for result in results:
            if not result.ok:
                summary.failed += 1
                summary.errors.append(f"{result.key}: {result.message}")
        state.drop_marks(MARK, done)
        state.log([Activity("out", r.key or "?", "REMOVED" if r.ok else "FAILED",
                            "no longer sold in the ERP: removed from the shop" if r.ok
                            else f"the shop refused to remove it: {r.message}") for r in results])

    shop.remove_products(skus, removed)
