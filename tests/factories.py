"""Small valid master and fact files, and the helper that loads them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa

from channelhub.formats import FileFormat
from channelhub.ingest.pipeline import ingest_file
from channelhub.ingest.result import IngestResult
from channelhub.productdb.tables import ProjectTables

HEADERS = {
    "store": ["partner_id", "region", "store_id", "store_name", "enabled"],
    "style": ["style", "season", "brand", "category", "subcategory", "gender", "mrp", "mrp_bucket",
              "image_url", "style_enabled"],
    "sku": ["sku", "style", "size"],
    "daily_sales": ["day", "channel", "store_id", "sku", "online", "qty", "disc_value", "revenue"],
    "storestock": ["day", "store_id", "sku", "qty"],
    "whstock": ["day", "warehouse_id", "sku", "qty"],
}


def rows(table: str, day: date) -> list[list[object]]:
    d = day.isoformat()
    return {
        "store": [["P1", "North", "S1", "Store One", 1], ["P1", "South", "S2", "Store Two", 1]],
        "style": [["ST1", "AW26", "Acme", "Tops", "Tees", "U", 500, "400-600", "", 1],
                  ["ST2", "AW26", "Acme", "Bottoms", "Jeans", "M", 1200, "1000-1500", "http://img/2", 1]],
        "sku": [["111", "ST1", "S"], ["112", "ST1", "M"], ["221", "ST2", "32"]],
        "daily_sales": [[d, "POS", "S1", "111", 0, 2, 10, 990], [d, "POS", "S2", "221", 0, 1, 0, 1200],
                        [d, "WEB", "S1", "112", 1, 1, 50, 450]],
        "storestock": [[d, "S1", "111", 4], [d, "S2", "221", 0]],
        "whstock": [[d, "WH1", "111", 40], [d, "WH1", "221", 12]],
    }[table]


def tsv_text(table: str, body: list[list[object]]) -> str:
    return "\t".join(HEADERS[table]) + "\n" + "".join("\t".join(map(str, r)) + "\n" for r in body)


def write_file(folder: Path, table: str, day: date, body: list[list[object]] | None = None) -> Path:
    path = folder / f"{table}-{day.isoformat()}.tsv"
    path.write_text(tsv_text(table, rows(table, day) if body is None else body))
    return path


def load(folder: Path, table: str, day: date, formats: dict[str, FileFormat], engine: sa.Engine,
         tables: ProjectTables, body: list[list[object]] | None = None) -> IngestResult:
    path = write_file(folder, table, day, body)
    return ingest_file(path, formats[table], engine, tables, day, report_path=folder / f"{table}.errors.tsv")


def load_masters(folder: Path, day: date, formats, engine, tables) -> None:
    for table in ("store", "style", "sku"):
        result = load(folder, table, day, formats, engine, tables)
        assert result.status.value == "SUCCESS", result


def table_rows(engine: sa.Engine, tables: ProjectTables, table: str) -> list[tuple]:
    target = tables[table]
    columns = [target.c[c] for c in tables.formats[table].column_names]
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(sa.select(*columns)).all())
