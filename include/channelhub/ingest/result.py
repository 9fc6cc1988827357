"""The outcome of one table's load: what the report and the DAG's tasks pass around.

Kept apart from the pipeline (pandas, pandera) so that parsing the DAG file and the report
task never import the data stack; only the load task does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from channelhub.ingest.issues import Issue


class TableStatus(StrEnum):
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    MISSING = "MISSING"


@dataclass
class IngestResult:
    """What happened to one table's file; travels to the report as an XCom."""

    table: str
    status: TableStatus
    rows: int = 0
    error_count: int = 0
    first_errors: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    detail: str = ""

    def to_xcom(self) -> dict:
        return {
            "table": self.table,
            "status": self.status.value,
            "rows": self.rows,
            "error_count": self.error_count,
            "first_errors": [issue.as_dict() for issue in self.first_errors],
            "notes": self.notes,
            "detail": self.detail,
        }

    @classmethod
    def from_xcom(cls, data: dict) -> IngestResult:
        return cls(
            table=data["table"],
            status=TableStatus(data["status"]),
            rows=data.get("rows", 0),
            error_count=data.get("error_count", 0),
            first_errors=[Issue(**issue) for issue in data.get("first_errors", [])],
            notes=data.get("notes", []),
            detail=data.get("detail", ""),
        )
