"""The class of an error: what kind of fix it needs, so an operator can sort the work.

Writers that know the class say it (a file that fails validation is ``file_format``); for
partner answers the class is read from the HTTP status and the message, the way a person
would: a 401 is about credentials, a 429 about the rate, a refused connection about the
network.
"""

from __future__ import annotations

import re
from enum import StrEnum


class ErrorClass(StrEnum):
    BAD_VALUE = "bad_value"
    MISSING_REFERENCE = "missing_reference"
    DUPLICATE = "duplicate"
    AUTH = "auth"
    RATE_LIMIT = "rate_limit"
    CONNECTION = "connection"
    REFUSED = "refused_by_partner"
    FILE_FORMAT = "file_format"
    MISSING_FILE = "missing_file"


#: Read in this order: the first that matches the message wins.
_PATTERNS: tuple[tuple[ErrorClass, re.Pattern[str]], ...] = tuple((cls, re.compile(pattern, re.I)) for cls, pattern in (
    (ErrorClass.AUTH, r"\b(auth\w*|password|credential\w*|log ?in|forbidden|unauthori[sz]ed|token)\b"),
    (ErrorClass.RATE_LIMIT, r"\b(rate limit\w*|too many requests|retry-after|throttl\w*)\b|\b429\b"),
    (ErrorClass.CONNECTION, r"\b(connect\w*|timed out|timeout|unreachable|refused the connection|"
                            r"name resolution|reset by peer|down|unavailable)\b"),
    (ErrorClass.DUPLICATE, r"\b(duplicate\w*|already exists?|conflict\w*)\b"),
    (ErrorClass.MISSING_REFERENCE, r"\b(missing|unknown|not found|no such|does not exist|lacks?|not in the erp)\b"),
    (ErrorClass.BAD_VALUE, r"\b(invalid|must be|not a (number|date)|too (long|large|many|few)|negative|"
                           r"out of range|quantity|price)\b"),
))
_BY_STATUS = {401: ErrorClass.AUTH, 403: ErrorClass.AUTH, 409: ErrorClass.DUPLICATE, 429: ErrorClass.RATE_LIMIT,
              502: ErrorClass.CONNECTION, 503: ErrorClass.CONNECTION, 504: ErrorClass.CONNECTION}


def classify(message: str, response_status: int | None = None) -> ErrorClass:
    """The class of a partner's or the hub's refusal of a record."""
    if response_status in _BY_STATUS:
        return _BY_STATUS[response_status]
    for error_class, pattern in _PATTERNS:
        if pattern.search(message):
            return error_class
    return ErrorClass.REFUSED
