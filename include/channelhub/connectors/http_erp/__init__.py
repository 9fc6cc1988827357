"""``http_erp``: JSON postings to a client's ERP endpoint.

The connection (type ``channelhub_http_erp``; one of type ``http`` is read the same way)
holds the URL in ``host`` (a full URL, or a host with ``schema`` and ``port``) and, in
``extra``:

- ``headers``: static headers sent with every posting (the client's credentials);
- ``credential_url``: called (GET, empty body) after an HTTP 401; it answers a JSON
  object of header names and values, which replace the static ones, and the posting is
  retried once;
- ``check_url``: what ``credentials test`` calls with the headers (GET); default
  ``credential_url``;
- ``timeout`` (seconds, 30), ``max_attempts`` (5), ``backoff`` (first wait, 1 s) and
  ``max_backoff`` (60 s) for transient failures;
- ``max_body`` (bytes, 8 MiB) and ``read_deadline`` (seconds, 120): an answer larger or slower
  is cut and taken as a transient failure (the document is sent again; the ERP de-duplicates
  on its messageId).

Outcomes: 2xx is SENT. 429, 5xx, timeouts and refused connections are retried with
exponential backoff, honouring ``Retry-After``; when the attempts run out the document
is RETRY (it stays PENDING for the next run). Any other 4xx is REJECTED at once with the
partner's answer kept, and so is a 401 that new headers did not cure. A credential URL
that fails (5xx, timeout, an answer that is not a JSON object of headers) is retried the
same way; if it still fails, :class:`CredentialRefreshFailed` is raised: it is no fault
of the document, so the task fails (Airflow retries it) and the document stays PENDING.

Any other extra is refused, naming it. This module is the connector's declaration (no
Airflow import); its hook and poster are in the package's modules, reachable from here.
"""

from __future__ import annotations

from pydantic import Field

from channelhub.connectors.contract import Ability, Connector
from channelhub.connectors.http_common import BoundExtras, PositiveFloat, PositiveInt
from channelhub.connectors.lazy import lazy_exports


class HttpErpExtras(BoundExtras):
    headers: dict[str, str] = Field(default_factory=dict)
    credential_url: str | None = None
    check_url: str | None = None
    timeout: PositiveFloat = 30.0
    max_attempts: PositiveInt = 5
    backoff: PositiveFloat = 1.0
    max_backoff: PositiveFloat = 60.0


CONNECTOR = Connector(
    name="http_erp",
    hook_class="channelhub.connectors.http_erp.hook.HttpErpHook",
    connection_type="channelhub_http_erp",
    hook_name="Channel Hub HTTP ERP",
    abilities=frozenset({Ability.POST_DOCUMENTS, Ability.TEST_CREDENTIALS}),
    description="JSON postings to a client's ERP endpoint",
    extras=HttpErpExtras,
    ui_fields={"hidden-fields": ["login", "password"], "relabeling": {"host": "Posting URL (or host)"}},
)

_PUBLIC = {"HttpErpHook": "hook", "ErpEndpoint": "poster", "ErpPoster": "poster"}
__getattr__ = lazy_exports(__name__, _PUBLIC)
__all__ = ["CONNECTOR", "HttpErpExtras", *_PUBLIC]
