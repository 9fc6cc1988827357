"""Deterministic benchmark files: masters and a daily_sales file of any size."""

from __future__ import annotations

from pathlib import Path

STORES, SKUS, SKUS_PER_STYLE = 100, 20_000, 5
DAY = "2026-11-20"


def write_masters(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"store-{DAY}.tsv").open("w") as f:
        f.write("partner_id\tregion\tstore_id\tstore_name\tenabled\n")
        f.writelines(f"P1\tR{i % 4}\tS{i:04d}\tStore {i}\t1\n" for i in range(STORES))
    with (folder / f"style-{DAY}.tsv").open("w") as f:
        f.write("style\tseason\tbrand\tcategory\tsubcategory\tgender\tmrp\tmrp_bucket\timage_url\tstyle_enabled\n")
        f.writelines(f"ST{i:06d}\tAW26\tBrand\tCat\tSub\tU\t999\t900-1000\t\t1\n"
                     for i in range(SKUS // SKUS_PER_STYLE))
    with (folder / f"sku-{DAY}.tsv").open("w") as f:
        f.write("sku\tstyle\tsize\n")
        f.writelines(f"89{i:011d}\tST{i // SKUS_PER_STYLE:06d}\tZ{i % SKUS_PER_STYLE}\n" for i in range(SKUS))


def write_sales(path: Path, rows: int) -> Path:
    """Unique (day, channel, store, sku) keys, valid against the masters."""
    with path.open("w") as f:
        f.write("day\tchannel\tstore_id\tsku\tonline\tqty\tdisc_value\trevenue\n")
        for i in range(rows):
            store, rest = i % STORES, i // STORES
            sku, channel = rest % SKUS, rest // SKUS
            amounts = f"{i & 1}\t{1 + i % 3}\t{i % 7}.5\t{100 + i % 500}.25"
            f.write(f"{DAY}\tCH{channel}\tS{store:04d}\t89{sku:011d}\t{amounts}\n")
    return path
