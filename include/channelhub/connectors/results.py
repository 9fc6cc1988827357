"""What posting one document came to, whatever the connector: kept apart from every connector so
the channel jobs and the ledger depend on no one partner's code."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    SENT = "SENT"          # the partner has the document
    REJECTED = "REJECTED"  # the partner refused this document; retrying cannot help
    RETRY = "RETRY"        # not now (429, 5xx, timeout): the document stays PENDING


@dataclass(frozen=True)
class PostResult:
    outcome: Outcome
    attempts: int
    status_code: int | None = None
    body: str | None = None
    error: str | None = None
