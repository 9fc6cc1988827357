"""What one step of a sync flow did: counters by outcome, and the first errors to show."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass
class FlowSummary:
    """Subclasses add their counters (ints); ``as_dict`` is what the task returns and logs."""

    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "errors"}
