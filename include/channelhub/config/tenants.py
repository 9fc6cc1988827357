"""Tenant projects: the SFTP file-drop integrations, one YAML file per tenant.

The models reject unknown keys, so a misspelt key is an error naming the file and key
rather than a silently ignored setting.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, PlainSerializer, field_validator, model_validator

from channelhub.config.retention import Retention
from channelhub.names import NAME
from channelhub.strict import StrictModel

TABLES = ("store", "style", "sku", "daily_sales", "storestock", "whstock")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DURATION = re.compile(r"^(\d+)\s*(s|m|h|d)$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """``90s``, ``15m``, ``3h``, ``1d`` or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    match = DURATION.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a duration like 90s, 15m, 3h or 1d")
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def format_duration(value: timedelta) -> str:
    """A duration the way config files write it (the largest whole unit), so it reads back the same."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


#: A config duration: read from ``90s``/``15m``/``3h``/``1d`` or seconds, written back the same way
#: (so a model's JSON, which operators keep, validates again).
Duration = Annotated[timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, when_used="json")]


TENANT_ROOT_PREFIX = "irism-"


def tenant_root(tenant: str) -> str:
    """The folder a tenant's SFTP user is chrooted to, relative to the hub's SFTP root."""
    return f"{TENANT_ROOT_PREFIX}{tenant}"


def folder_problem(folder: str, tenant: str) -> str | None:
    """Why ``folder`` is not a folder inside the tenant's own root, or None.

    Checked on the text alone, before any server is asked: a project must never be able to
    name another tenant's folder (``../irism-other/main``, ``/irism-other/main``) or one
    outside the SFTP root (``../../etc``).
    """
    root = tenant_root(tenant)
    if folder.startswith("/"):
        return f"must be relative to the SFTP root, like {root}/<project>"
    if "\\" in folder or any(ord(c) < 32 or ord(c) == 127 for c in folder):
        return "must not contain backslashes or control characters"
    parts = folder.rstrip("/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "must not contain empty, '.' or '..' parts"
    if parts[0] != root or len(parts) < 2:
        return f"must lie under the tenant's own root {root}/ (e.g. {root}/<project>)"
    return None


class Schedule(StrictModel):
    """When a project runs: a time of day in a timezone, daily or weekly, a cron expression, or
    ``manual`` (never on its own: each run is triggered, and its logical date is the run date)."""

    time: str = "09:00"
    timezone: str = "UTC"
    frequency: Literal["daily", "weekly", "cron", "manual"] = "daily"
    weekday: str | None = None
    cron: str | None = None

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        try:
            time.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a time of day HH:MM") from None
        if not re.fullmatch(r"\d{2}:\d{2}", value):
            raise ValueError(f"{value!r} is not a time of day HH:MM")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA timezone like Asia/Kolkata") from None
        return value

    @field_validator("weekday")
    @classmethod
    def _weekday(cls, value: str | None) -> str | None:
        if value is not None and value.lower() not in WEEKDAYS:
            raise ValueError(f"{value!r} is not a weekday ({', '.join(WEEKDAYS)})")
        return value.lower() if value else value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from croniter import croniter  # an Airflow dependency; only imported when a cron is set

        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron expression")
        return value

    @model_validator(mode="after")
    def _frequency_fields(self) -> Schedule:
        if self.frequency == "weekly" and self.weekday is None:
            raise ValueError("frequency weekly needs weekday")
        if self.frequency == "cron" and self.cron is None:
            raise ValueError("frequency cron needs cron")
        if self.frequency != "weekly" and self.weekday is not None:
            raise ValueError("weekday is only used with frequency weekly")
        if self.frequency != "cron" and self.cron is not None:
            raise ValueError("cron is only used with frequency cron")
        return self

    def describe(self) -> str:
        """The schedule as the tenant said it, in its own timezone (the UI shows times in UTC)."""
        if self.frequency == "cron":
            return f"cron {self.cron} ({self.timezone})"
        if self.frequency == "manual":
            return f"only when triggered (run dates in {self.timezone})"
        day = f"every {self.weekday}" if self.frequency == "weekly" else "daily"
        return f"{day} at {self.time} {self.timezone}"

    @property
    def cron_expression(self) -> str | None:
        """None for ``manual``: the DAG has no schedule of its own."""
        if self.frequency == "manual":
            return None
        if self.frequency == "cron":
            return self.cron  # type: ignore[return-value]
        hour, minute = (int(part) for part in self.time.split(":"))
        day_of_week = self.weekday[:3] if self.frequency == "weekly" else "*"  # type: ignore[index]
        return f"{minute} {hour} * * {day_of_week}"


class Wait(StrictModel):
    """How the hub waits for a table's file."""

    deadline: Duration = Field(default=timedelta(hours=3), description="Then the table is MISSING.")
    poke_interval: Duration = timedelta(minutes=5)
    settle: Duration = Field(default=timedelta(seconds=60),
                             description="A file modified more recently is still being written.")


class Notify(StrictModel):
    emails: list[str] = Field(min_length=1)
    smtp_conn_id: str = "channelhub_smtp"

    @field_validator("emails")
    @classmethod
    def _emails(cls, emails: list[str]) -> list[str]:
        for email in emails:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                raise ValueError(f"{email!r} is not an email address")
        return emails


class TenantProject(StrictModel):
    """One tenant project: an SFTP folder of dated TSV files, loaded into its product tables."""

    tenant: str = Field(pattern=NAME)
    project: str = Field(pattern=NAME)
    sftp_conn_id: str = Field(min_length=1)
    sftp_folder: str | None = Field(default=None, description="Default irism-<tenant>/<project>.")
    tables: list[str] = Field(min_length=1)
    schedule: Schedule = Schedule()
    wait: Wait = Wait()
    notify: Notify
    allowed_ips: list[str] = Field(default_factory=list)
    product_db_conn_id: str = "channelhub_product_db"
    hub_db_conn_id: str = Field(default="channelhub_hub_db", description="Where the console's records live.")
    retention: Retention = Retention()
    formats: dict[str, str] = Field(default_factory=dict,
                                    description="table -> format file overriding schemas/<table>.yaml")
    enabled: bool = True
    owner: str = "channelhub"
    client: str | None = Field(default=None, pattern=NAME,
                               description="A client whose ERP gets this project's daily sales as documents.")

    @field_validator("tables")
    @classmethod
    def _tables(cls, tables: list[str]) -> list[str]:
        unknown = [t for t in tables if t not in TABLES]
        if unknown:
            raise ValueError(f"unknown table(s) {', '.join(unknown)}; known: {', '.join(TABLES)}")
        if len(set(tables)) != len(tables):
            raise ValueError("a table is listed twice")
        return [t for t in TABLES if t in tables]  # masters first, the order they load in

    @field_validator("allowed_ips")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ValueError(f"{value!r} is not an IP address or CIDR") from None
        return values

    @model_validator(mode="after")
    def _client_needs_daily_sales(self) -> TenantProject:
        if self.client is not None and "daily_sales" not in self.tables:
            raise ValueError("client is set but daily_sales is not in tables: only daily sales go to a client's ERP")
        return self

    @model_validator(mode="after")
    def _folder_is_the_tenants_own(self) -> TenantProject:
        if self.sftp_folder is not None:
            problem = folder_problem(self.sftp_folder, self.tenant)
            if problem:
                raise ValueError(f"sftp_folder {self.sftp_folder!r} {problem}")
        return self

    @model_validator(mode="after")
    def _overrides_are_configured_tables(self) -> TenantProject:
        extra = [t for t in self.formats if t not in self.tables]
        if extra:
            raise ValueError(f"formats overrides tables not in tables: {', '.join(extra)}")
        return self

    @property
    def folder(self) -> str:
        return (self.sftp_folder or f"{tenant_root(self.tenant)}/{self.project}").rstrip("/")

    @property
    def dag_id(self) -> str:
        return f"sftp__{self.tenant}__{self.project}"

    @property
    def table_prefix(self) -> str:
        return f"{self.tenant}__{self.project}__".replace("-", "_")
