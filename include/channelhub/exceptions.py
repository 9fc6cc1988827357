"""The hub's errors, so callers can tell a refusal from a passing fault.

A :class:`ChannelHubError` that is ``transient`` is worth another try of the whole task
(Airflow's retries); any other is final for the input that caused it. Nothing here knows
Airflow: :mod:`channelhub.operators` turns a hub error into the exception Airflow acts on,
once, for every operator. (A connector's own errors subclass these in its package.)
"""

from __future__ import annotations

from pathlib import Path


class ChannelHubError(Exception):
    """Base of every error the hub raises on purpose."""

    transient = False


class ConfigFileError(ChannelHubError, ValueError):
    """A configuration or format file that cannot be used, with where and why."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        super().__init__(f"{self.path}: " + "; ".join(problems))


class FormatError(ConfigFileError):
    """A file format that does not parse or contradicts itself."""


class ConfigProblems(ChannelHubError):
    """Raised by ``dags/channelhub_config_errors.py`` so Airflow lists every config problem as an import error."""


class UnknownClient(ChannelHubError, LookupError):
    """A client name that no valid client file defines (it may be in a file with errors)."""


class UnknownChannel(ChannelHubError, LookupError):
    """A channel id the client does not have."""


class LedgerConflict(ChannelHubError, ValueError):
    """A document key already in the ledger with different content."""

    def __init__(self, keys: list[str]):
        self.keys = keys
        super().__init__(f"already in the ledger with different content: {', '.join(keys)}")


class PushNotAllowed(ChannelHubError, ValueError):
    """A credential asked for a channel that does not push to the hub."""


class CredentialError(ChannelHubError, ValueError):
    """A push credential cannot be made, narrowed or rotated as asked (the message says why)."""


class ConnectionNotLive(ChannelHubError):
    """A pair's connection changed since its last passing credential test and now fails it: the
    pair does not run until its connection passes (final: a retry cannot fix a connection)."""


class UnsafeTenantPath(ChannelHubError):
    """A path in a tenant folder that the hub refuses to touch (a link, or not what it should be).

    Tenants control their own folders, so a link there could make the hub read, move or
    overwrite another tenant's files. The message is written for the tenant's status email.
    """

    def __init__(self, path: str, problem: str):
        self.path = path
        super().__init__(f"{path} {problem}; the hub does not follow links in a tenant folder. "
                         "Remove it (or replace it with a real folder or file) and rerun")


class TenantFileGone(ChannelHubError):
    """A tenant file the wait saw is no longer in its folder (nor archived) when the load looks."""


class PartnerAuthFailed(ChannelHubError):
    """The partner refused the hub's own credentials (or gave none): every posting would fail
    alike and no document is to blame, so the task fails (and Airflow retries it, then alerts
    the operators) while the documents stay PENDING."""

    transient = True


class CredentialRefreshFailed(PartnerAuthFailed):
    """The partner's credential URL did not give new headers."""


class PartnerUnavailable(ChannelHubError):
    """The partner could not answer now (refused connection, timeout, 5xx, rate limits that did
    not clear): the records stay where they were, and the task fails so Airflow retries it."""

    transient = True


class PartnerRefused(ChannelHubError):
    """The partner answered a call with a refusal no retry can cure (a bad searchstring, a
    body it cannot read); the message carries its answer."""


class PartnerAnswerInvalid(ChannelHubError):
    """The partner answered something the hub cannot use: not JSON, the wrong shape, too big,
    too slow, a page out of step. Nothing of it is stored and no cursor moves; the task fails
    and Airflow retries it (a maintenance page or a proxy's error is often gone a minute later)."""

    transient = True


class PartnerLimitReached(ChannelHubError):
    """A run reached a bound the connection sets (``max_pages``, ``job_deadline``): what it read
    or wrote before is kept, the cursor stays where it was, and the message names the bound to
    raise if the partner really has that much."""


class ConnectionInvalid(ChannelHubError):
    """A partner connection that cannot be used as configured (a missing field, an unknown or
    malformed extra); the message names the connection and the key."""


class ConnectorCannot(ChannelHubError):
    """A connector asked for an ability it does not declare."""


class FlowSwitchedOff(ChannelHubError):
    """A run of a flow's direction the client file does not enable (customer sync runs one way
    at a time); final: the run does nothing and says which direction is on."""


class RecordsRefused(ChannelHubError):
    """The partner refused some records for good; every other record went through, and each
    refusal is in the activity log or the ledger with its reason. Final: the task fails without
    a retry, so the operators are alerted."""


class RecordsPending(ChannelHubError):
    """Some records could not go now (the partner could not take them) and stay pending; the
    task fails so Airflow retries it."""

    transient = True


class MappingError(ChannelHubError):
    """A record the flow's data mapping cannot turn into the target's shape (a missing field,
    a value with no entry in a lookup table); that record is held, the others go on."""


class OnboardingRefused(ChannelHubError):
    """``channelhub tenant add`` / ``client add`` refused: the name exists, or the file would be
    invalid (the message lists every problem); nothing was written."""


class HubDbNotMigrated(ChannelHubError):
    """The hub database is not at the code's schema revision; ``channelhub db upgrade`` brings it there."""


class ConsoleRefused(ChannelHubError, ValueError):
    """A console request or action refused: an HTTP status, the field at fault, and why.
    Nothing was changed."""

    def __init__(self, status: int, field: str, message: str):
        self.status, self.field = status, field
        super().__init__(message)
