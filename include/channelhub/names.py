"""The one rule for every name the hub makes paths, DAG ids, users or keys from.

Tenant, project, client and channel names are lower case (they become DAG ids, SFTP users,
folders and table names); location codes keep the partner's case. Both are letters, digits,
``-`` and ``_`` only, 1 to 40 characters, starting with a letter or digit: no ``/``, ``..``,
``:`` (the ledger's key separator) or NUL can ever reach a path or a key. Every entry point
(the config files, ``channelhub tenant add`` / ``client add``) checks a name against this
before it makes anything of it.
"""

from __future__ import annotations

import re

NAME = r"^[a-z0-9][a-z0-9_-]{0,39}$"
LOCATION_CODE = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"
_NAME = re.compile(NAME)


def name_problem(kind: str, value: str) -> str | None:
    """Why ``value`` cannot be a tenant/project/client/channel name, or None."""
    if _NAME.fullmatch(value):
        return None
    return (f"{kind} name {value[:60]!r}{'...' if len(value) > 60 else ''} is not allowed: use 1 to 40 "
            "lower-case letters, digits, - and _, starting with a letter or digit")
