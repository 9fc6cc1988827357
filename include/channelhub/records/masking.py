"""Secrets out of what the console shows: a request or an answer is shown with every value
under a secret-looking key (password, token, API key, signature, authorization) replaced, and
``key=value`` secrets in plain text cut, so an operator's screen never shows a credential."""

from __future__ import annotations

import json
import re
from typing import Any

MASK = "***"
SECRET_KEY = re.compile(r"pass(word)?|secret|token|api[-_]?key|authori[sz]ation|signature|credential|cookie", re.I)
SECRET_TEXT = re.compile(r"((?:pass(?:word)?|secret|token|api[-_]?key|authorization)\s*[=:]\s*)([^\s&,;\"']+)", re.I)


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK if SECRET_KEY.search(str(k)) and v not in (None, "") else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def mask_secrets(text: str | None) -> str | None:
    """The text with its secrets masked: JSON by key, anything else by ``key=value`` pattern."""
    if not text:
        return text
    try:
        return json.dumps(_masked(json.loads(text)), indent=2, ensure_ascii=False)
    except ValueError:
        return SECRET_TEXT.sub(lambda m: m.group(1) + MASK, text)
