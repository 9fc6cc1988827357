"""What every configuration and format model shares, and how a validation error names its place.

Config files, format files, the mapper's specs and the push API's bodies are all pydantic
models that refuse unknown keys; their errors all name the place the same way
(``projects[0].schedule.time``, ``orderItems[2].quantity``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Unknown keys are errors and a loaded value never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def location_path(loc: Iterable[Any], prefix: str = "") -> str:
    """A pydantic error location as a path: ``("projects", 0, "time")`` -> ``projects[0].time``.

    pydantic's ``[key]`` marker for a bad mapping key is dropped (the key itself is named).
    """
    path = prefix
    for part in loc:
        if part == "[key]":
            continue
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path
