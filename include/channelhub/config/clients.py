"""Clients and their channels: the client-channel pairs, one YAML file per client.

A client has any number of MARKETPLACE channels and at most one ERP channel. The ERP
channel carries the channel jobs (what the hub posts to the ERP and when) and the ERP
channel mapping (the name the ERP knows each marketplace channel by, and whether that
channel's updates go to the ERP at all).
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from channelhub.config.retention import Retention
from channelhub.config.sync_flows import Flows, LocationsMixin, check_targets, needed_abilities
from channelhub.config.tenants import Duration, Schedule
from channelhub.connectors.registry import abilities_of, unable, unfit_connector
from channelhub.exceptions import UnknownChannel
from channelhub.names import NAME
from channelhub.strict import StrictModel


class ChannelJobName(StrEnum):
    """The channel jobs of an ERP channel; each becomes the DAG ``erp__<client>__<job>``."""

    SALES_POSTING = "SALES_POSTING"
    INWARDS_POSTING = "INWARDS_POSTING"
    INWARDS_GATE_ENTRY_POSTING = "INWARDS_GATE_ENTRY_POSTING"
    RETURNS_POSTING = "RETURNS_POSTING"


class ChannelJob(StrictModel):
    """One channel job: on or off, how old a document must be before it is posted, and when it runs.

    The job also runs soon after new documents for it enter the ledger (an Airflow asset),
    so the schedule is the longest a document waits once it is old enough.
    """

    enabled: bool = False
    delay: Duration = Field(default=timedelta(0), description="Post a document only once it is this old.")
    schedule: Schedule = Schedule(frequency="cron", cron="*/15 * * * *")


class ChannelMapping(StrictModel):
    """How the ERP sees one marketplace channel of the client."""

    erp_channel_name: str = Field(min_length=1, max_length=120)
    updates_to_erp: bool = True


class Channel(LocationsMixin):
    """One client-channel pair. Credentials are in the Airflow connection ``conn_id``, never here.

    A marketplace channel lists its locations (each gets the location jobs) and its sync flows.
    """

    id: str = Field(pattern=NAME)
    type: Literal["MARKETPLACE", "ERP"]
    connector: str = Field(min_length=1)
    conn_id: str = Field(min_length=1)
    jobs: dict[ChannelJobName, ChannelJob] = Field(default_factory=dict)
    mapping: dict[str, ChannelMapping] = Field(default_factory=dict)
    batch_size: int = Field(default=100, ge=1, le=10_000, description="Documents read from the ledger at once.")
    concurrency: int = Field(default=4, ge=1, le=64, description="Calls in flight to the partner at once.")
    pool: str | None = Field(default=None, description="Airflow pool capping calls to the partner; "
                                                       "default partner_<conn_id>.")
    inward_tolerance_percent: int = Field(default=0, ge=0, le=100, description="How far gate entries and "
                                          "completions pushed by this channel may pass the inward order's "
                                          "quantities (per SKU); past it the call is refused with 422.")

    @model_validator(mode="after")
    def _connector_can_serve(self) -> Channel:
        if problem := unfit_connector(self.connector, self.type):
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _erp_only_settings(self) -> Channel:
        if self.type == "MARKETPLACE" and (self.jobs or self.mapping):
            raise ValueError("jobs and mapping belong to the ERP channel, not a MARKETPLACE channel")
        if self.type == "ERP" and (self.locations or self.flows.model_dump() != Flows().model_dump()):
            raise ValueError("locations and flows belong to MARKETPLACE channels, not the ERP channel")
        needed, _ = needed_abilities(self.type, self.locations, self.flows)
        if problem := unable(self.connector, needed, "the locations and flows of this channel"):
            raise ValueError(problem)
        return self

    def job(self, name: ChannelJobName) -> ChannelJob:
        """The job's settings; a job the file does not list exists, disabled."""
        return self.jobs.get(name, ChannelJob())

    @property
    def partner_pool(self) -> str:
        return self.pool or f"partner_{self.conn_id}"


class Client(StrictModel):
    """A client with its channels, validated as a whole (one ERP, a mapping for every marketplace)."""

    client: str = Field(pattern=NAME)
    channels: list[Channel] = Field(min_length=1)
    hub_db_conn_id: str = Field(default="channelhub_hub_db", description="Where the ledger lives.")
    owner: str = "channelhub"
    retention: Retention = Retention()

    @model_validator(mode="after")
    def _pairs(self) -> Client:
        ids = [channel.id for channel in self.channels]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"channel id(s) listed twice: {', '.join(repeated)}")
        erps = [channel.id for channel in self.channels if channel.type == "ERP"]
        if len(erps) > 1:
            raise ValueError(f"a client has at most one ERP channel; found {len(erps)}: {', '.join(erps)}")
        if erps:
            mapping = self.erp.mapping
            marketplaces = [c.id for c in self.channels if c.type == "MARKETPLACE"]
            unknown = sorted(set(mapping) - set(marketplaces))
            if unknown:
                raise ValueError(f"ERP channel {erps[0]}: mapping names channels that are not MARKETPLACE "
                                 f"channels of {self.client}: {', '.join(unknown)}")
            unmapped = [m for m in marketplaces if m not in mapping]
            if unmapped:
                raise ValueError(f"ERP channel {erps[0]}: mapping has no entry for marketplace channel(s) "
                                 f"{', '.join(unmapped)} (say erp_channel_name and updates_to_erp)")
        for index, channel in enumerate(self.channels):
            if channel.type == "MARKETPLACE":
                try:
                    check_targets(channel.flows, channel.connector, self.erp.connector if self.erp else None)
                except ValueError as exc:
                    raise ValueError(f"channels[{index}].{exc}") from None
            _, needed = needed_abilities(channel.type, channel.locations, channel.flows)
            if not needed:
                continue
            if not erps:
                raise ValueError(f"channel {channel.id}: its locations and flows need an ERP channel to sync with")
            missing = sorted(needed - abilities_of(self.erp.connector))
            if missing:
                raise ValueError(f"channel {channel.id}: its locations and flows need an ERP connector that can "
                                 f"{' and '.join(sorted(needed))}; {self.erp.connector!r} cannot "
                                 f"{' or '.join(missing)}")
        return self

    @property
    def erp(self) -> Channel | None:
        return next((channel for channel in self.channels if channel.type == "ERP"), None)

    def channel(self, channel_id: str) -> Channel:
        for channel in self.channels:
            if channel.id == channel_id:
                return channel
        raise UnknownChannel(f"client {self.client} has no channel {channel_id!r}")


def job_dag_id(client: str, job: ChannelJobName) -> str:
    return f"erp__{client}__{job.value}".lower()
