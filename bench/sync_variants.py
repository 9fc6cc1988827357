"""``make bench-sync`` (variants): product sync of ``CHANNELHUB_BENCH_VARIANT_PRODUCTS`` configurable
products (1,000) of 5 variants each from a real Tryton into a real django-oscar shop, against the
fewest admin-API calls Oscar allows, made by a direct client in the same run.

Oscar takes a variant as a child of its parent product, one ``POST`` each (its API makes no
child inline with its parent), so the fewest calls are one ``POST`` per parent and one per
variant (with its attributes and stock record inline): 6,000 for 1,000 products, plus the
template database's own products. The direct client knows every product before its clock
starts; the hub also reads the ERP (the variants, their templates, categories and EANs, a
page of 500 at a time), the shop's catalogue and its product class; each into a fresh shop.
The figure is the direct client's time over the hub's (goal >= 0.9).
"""

from __future__ import annotations

import os
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from bench.sync_oscar import shop_side
from bench.tryton_posting import server_of
from channelhub.config.sync_flows import ProductFlow
from channelhub.connectors.contract import ErpProduct
from channelhub.connectors.tryton import TrytonErpSide, TrytonSession
from channelhub.hubdb.migrate import upgrade as upgrade_hub_db
from channelhub.sqldb import create_engine
from channelhub.sync.products import sync_products
from channelhub.sync.state import Scope, SyncState
from channelhub_dev.oscar import OscarShop, staff_session
from channelhub_dev.tryton import TrytonProcess

PRODUCTS = int(os.environ.get("CHANNELHUB_BENCH_VARIANT_PRODUCTS", "1000"))
SIZES = ("XS", "S", "M", "L", "XL")
TEMPLATES_PER_CALL = 5  # 25 variants a call keeps Tryton's SQLite within its parser's limits


def add_variants(session: TrytonSession, count: int) -> None:
    """``count`` templates of the attribute set Apparel, 5 variants each, in Clothing / Tees."""
    model = session.call("product.template", "search_read", [("code", "=", "TEE")], 0, 1, None,
                         ["default_uom", "sale_uom", "purchase_uom", "account_category", "attribute_set",
                          "categories"])[0]
    templates = [{"name": f"Bench tee {i}", "code": f"BT{i:04}", "type": "goods", "salable": True,
                  "list_price": Decimal("19.95"), "categories": [["add", model["categories"]]],
                  **{k: model[k] for k in ("default_uom", "sale_uom", "purchase_uom", "account_category",
                                           "attribute_set")},
                  "products": [["create", [{"suffix_code": f"-{size}", "attributes": {"size": size, "colour": "navy"}}
                                           for size in SIZES]]]} for i in range(count)]
    for start in range(0, count, TEMPLATES_PER_CALL):
        session.call("product.template", "create", templates[start:start + TEMPLATES_PER_CALL])


def erp_products(tryton: TrytonProcess) -> list[ErpProduct]:
    erp, offset, found = TrytonErpSide(TrytonSession(server_of(tryton))), 0, []
    while page := erp.products(offset, 500):
        found += page
        offset += 500
    return found


def direct_products(shop: OscarShop, products: list[ErpProduct]) -> tuple[float, int]:
    """The floor: the same products (known before the clock starts) written with one POST per
    parent and one per variant or simple product, nothing read."""
    calls = 0
    with staff_session(shop.url) as api:
        partner = next(p["url"] for p in api.get("/admin/partners/").json()["results"] if p["code"] == "WH")
        start = time.perf_counter()
        parents: dict[str, int] = {}
        for product in products:
            body = {"upc": product.code, "slug": product.code.lower(), "title": product.name, "is_public": True,
                    "attributes": [{"code": k, "value": v} for k, v in product.attributes],
                    "stockrecords": [{"partner": partner, "partner_sku": product.code, "num_in_stock": 0,
                                      "price": str(product.list_price)}]}
            if product.parent and product.parent not in parents:
                parents[product.parent] = api.post("/admin/products/", json={
                    "structure": "parent", "upc": product.parent, "slug": product.parent.lower(),
                    "title": product.parent_name, "product_class": "default",
                    "categories": list(product.categories)}).raise_for_status().json()["id"]
                calls += 1
            if product.parent:
                body |= {"structure": "child", "parent": parents[product.parent], "product_class": None}
            else:
                body |= {"product_class": "default", "categories": list(product.categories)}
            api.post("/admin/products/", json=body).raise_for_status()
            calls += 1
        return time.perf_counter() - start, calls


def hub_products(tryton: TrytonProcess, shop: OscarShop, work: Path) -> tuple[float, int, int]:
    engine = create_engine(f"sqlite:///{work / 'variants.db'}")
    upgrade_hub_db(engine)
    state = SyncState(engine, Scope("bench", "oscar", "", "product_sync"), "bench")
    erp, side = TrytonErpSide(TrytonSession(server_of(tryton))), shop_side(shop)
    try:
        start = time.perf_counter()
        summary = sync_products(erp, side, state, ProductFlow(enabled=True))
        seconds = time.perf_counter() - start
    finally:
        engine.dispose()
    created = PRODUCTS * len(SIZES)
    assert summary.created >= created and not summary.failed, summary
    return seconds, side.client.calls, summary.created


def main() -> None:
    print(f"Product sync of {PRODUCTS} configurable products x {len(SIZES)} variants from Tryton into Oscar, hub vs "
          "the fewest admin-API calls:")
    with tempfile.TemporaryDirectory(prefix="channelhub-bench-variants-") as folder:
        work = Path(folder)
        tryton = TrytonProcess(work / "tryton").start()
        try:
            started = time.perf_counter()
            add_variants(TrytonSession(server_of(tryton)), PRODUCTS)
            made = time.perf_counter() - started
            print(f"  (setup: {PRODUCTS * len(SIZES)} variants made in Tryton in {made:.0f} s)", flush=True)
            products = erp_products(tryton)
            direct_shop = OscarShop(work / "oscar-direct").start()
            try:
                direct, direct_calls = direct_products(direct_shop, products)
            finally:
                direct_shop.stop()
            hub_shop = OscarShop(work / "oscar-hub").start()
            try:
                ours, calls, created = hub_products(tryton, hub_shop, work)
            finally:
                hub_shop.stop()
        finally:
            tryton.stop()
    print(f"  direct {direct:.1f} s in {direct_calls} calls; hub {ours:.1f} s in {calls} calls ({created} variants and "
          f"simple products, the template database's own included); ratio {direct / ours:.2f} (goal >= 0.9)")


if __name__ == "__main__":
    main()
