"""How long the hub keeps what it moved for a client or tenant (``retention:`` in its file).

Payloads (documents, the records a flow sent or read, partners' answers, error reports) hold
people's names and addresses and go after ``payload_days``; the metadata of what moved
(keys, statuses, counts, who acted) stays ``metadata_days`` for audits. A record still on its
way to a partner is never purged. Archived tenant files on SFTP (``processed/``, ``failed/``)
go after ``archive_days``.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from channelhub.strict import StrictModel


class Retention(StrictModel):
    payload_days: int = Field(default=30, ge=1, le=3650, description="Payloads, answers and error reports.")
    metadata_days: int = Field(default=400, ge=1, le=3650, description="What moved, its status and the audit trail.")
    archive_days: int = Field(default=90, ge=1, le=3650, description="A tenant's archived files on SFTP.")

    @model_validator(mode="after")
    def _metadata_outlives_payloads(self) -> Retention:
        if self.metadata_days < self.payload_days:
            raise ValueError(f"metadata_days ({self.metadata_days}) is shorter than payload_days "
                             f"({self.payload_days}): a record's payload cannot outlive the record")
        return self
