"""Onboarding in one command: a tenant's or a client's file written, validated and put in place.

A file is written and validated in a hidden subfolder of the config folder (which the DAG
file never reads), then linked into place under its final name: the dag-processor never
sees a half-written or invalid file, and an existing file is never replaced. The
dag-processor picks the new file up on its next pass, so the DAGs appear without a restart.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from channelhub.config.client_loader import load_client_config, load_client_file
from channelhub.config.clients import ChannelJobName, Client
from channelhub.config.loader import load_tenant_config, load_tenant_file
from channelhub.config.tenants import TenantProject, tenant_root
from channelhub.exceptions import ConfigFileError, OnboardingRefused
from channelhub.formats.registry import load_formats
from channelhub.names import name_problem
from channelhub.yamlfile import dump_yaml

SFTP_PASSWORD_BYTES = 18


def place_new_file(folder: Path, name: str, text: str, validate: Callable[[Path], Any]) -> Path:
    """Writes ``folder/name`` only if ``validate`` accepts the text and no such file exists yet.

    ``name`` must be a plain file name: a name with a folder in it (``../demo.yaml``) would
    make the staging path resolve to a real config file and overwrite it.
    """
    if Path(name).name != name or name.startswith(".") or "\x00" in name or len(name) > 255:
        raise OnboardingRefused(f"{name[:60]!r} is not a plain file name; nothing was written")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.exists():
        raise OnboardingRefused(f"{target} exists already; edit it instead")
    staging = Path(tempfile.mkdtemp(prefix=".onboarding-", dir=folder))
    try:
        draft = staging / name
        draft.write_text(text)
        try:
            validate(draft)
        except ConfigFileError as exc:
            raise OnboardingRefused("the file would be invalid:\n" + "\n".join(
                f"  - {problem}" for problem in exc.problems)) from None
        try:
            os.link(draft, target)  # never replaces a file that appeared meanwhile
        except FileExistsError:
            raise OnboardingRefused(f"{target} exists already; edit it instead") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


@dataclass(frozen=True)
class NewTenant:
    tenant: str
    projects: list[str]
    tables: list[str]
    time: str
    timezone: str
    emails: list[str]
    allowed_ips: list[str]
    frequency: str = "daily"
    weekday: str | None = None
    sftp_conn_id: str = "channelhub_sftp"
    client: str | None = None
    enabled: bool = True
    product_db_conn_id: str = "channelhub_product_db"
    #: ``deadline``, ``poke_interval``, ``settle`` given on the command line (the rest keep their defaults).
    wait: dict[str, str] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        schedule = {"time": self.time, "timezone": self.timezone, "frequency": self.frequency}
        if self.weekday:
            schedule["weekday"] = self.weekday
        defaults: dict[str, Any] = {"sftp_conn_id": self.sftp_conn_id, "tables": self.tables, "schedule": schedule,
                                    "notify": {"emails": self.emails}, "allowed_ips": self.allowed_ips,
                                    "enabled": self.enabled, "product_db_conn_id": self.product_db_conn_id}
        if self.wait:
            defaults["wait"] = dict(self.wait)
        if self.client:
            defaults["client"] = self.client
        return {"tenant": self.tenant, "defaults": defaults,
                "projects": [{"project": project} for project in self.projects]}


def add_tenant_file(tenant: NewTenant, config_dir: Path, schemas_dir: Path) -> tuple[Path, list[TenantProject]]:
    """The tenant's file, validated as the DAG file reads it; refused if the tenant exists anywhere."""
    _require_names(("tenant", tenant.tenant), *(("project", project) for project in tenant.projects),
                   *([("client", tenant.client)] if tenant.client else []))
    existing = {p.config.tenant: p.source for p in load_tenant_config(config_dir, schemas_dir).projects}
    if tenant.tenant in existing:
        raise OnboardingRefused(f"tenant {tenant.tenant!r} is already configured in {existing[tenant.tenant]}")
    formats = load_formats(schemas_dir)
    header = (f"# Tenant {tenant.tenant}, written by `channelhub tenant add`; the reference is in README.md.\n")
    path = place_new_file(config_dir, f"{tenant.tenant}.yaml", header + dump_yaml(tenant.document()),
                          lambda draft: load_tenant_file(draft, formats))
    return path, [loaded.config for loaded in load_tenant_file(path, formats)]


def _require_names(*named: tuple[str, str]) -> None:
    """Every name checked before any path, user or file is made of it."""
    problems = [problem for kind, value in named if (problem := name_problem(kind, value))]
    if problems:
        raise OnboardingRefused("; ".join(problems) + "; nothing was written")


def new_sftp_password() -> str:
    return secrets.token_urlsafe(SFTP_PASSWORD_BYTES)


def allowed_networks(projects: list[TenantProject]) -> tuple[str, ...]:
    """The tenant's SFTP allow list: every address its projects allow (one user serves them all)."""
    return tuple(sorted({net for project in projects for net in project.allowed_ips}))


@dataclass(frozen=True)
class OpenSshLayout:
    """Where the production OpenSSH setup of docs/security.md keeps things (the defaults are the docs')."""

    root: str = "/srv/sftp"
    tenants_group: str = "sftp-tenants"
    hub_group: str = "sftp-hub"
    #: The hub's user for one tenant, chrooted to that tenant's root: the connection's ``tenant_login``.
    hub_login: str = "hub-{tenant}"
    #: A folder sshd_config includes at its end (``Include /etc/ssh/sshd_config.d/channelhub-*.conf``).
    sshd_dir: str = "/etc/ssh/sshd_config.d"


def openssh_commands(tenant: str, projects: list[TenantProject], layout: OpenSshLayout = OpenSshLayout()) -> str:
    """The production OpenSSH setup of docs/security.md for one new tenant, as commands to run as root:
    the tenant's user, the hub's user confined to the same chroot, the project folders, and the
    tenant's address allow list as an sshd drop-in file."""
    chroot = f"{layout.root}/{tenant_root(tenant)}"
    hub = layout.hub_login.format(tenant=tenant)
    folders = " ".join(f"{layout.root}/{project.folder}" for project in projects)
    networks = allowed_networks(projects)
    lines = [
        f"groupadd -f sftp-{tenant}",
        f"useradd -M -d /nonexistent -s /usr/sbin/nologin -g sftp-{tenant} -G {layout.tenants_group} {tenant}",
        f"useradd -M -d {chroot} -s /usr/sbin/nologin -g sftp-{tenant} -G {layout.hub_group} {hub}",
        f"mkdir -p {folders}",
        f"chown root:root {chroot} && chmod 0755 {chroot}",
        f"chown {tenant}:sftp-{tenant} {folders} && chmod 2770 {folders}",
    ]
    drop_in = f"{layout.sshd_dir}/channelhub-{tenant}.conf"
    if networks:
        lines += [f"cat > {drop_in} <<'EOF'",
                  f"# {tenant} may log in only from {', '.join(networks)} (written by channelhub tenant add)",
                  f"Match User {tenant} Address *,{','.join('!' + net for net in networks)}",
                  f"    DenyUsers {tenant}",
                  "EOF"]
    else:
        lines.append(f"rm -f {drop_in}  # {tenant} may log in from anywhere")
    lines += [f"# then: install the hub's public key for {hub} and the tenant's key (or password) for {tenant},",
              "# and reload sshd (systemctl reload ssh)"]
    return "\n".join(lines)


@dataclass(frozen=True)
class NewClient:
    client: str
    erp_connector: str
    erp_conn_id: str
    #: Marketplace channel id -> the name the ERP knows it by.
    channels: dict[str, str]
    owner: str = "channelhub"
    enabled: bool = True

    def document(self) -> dict[str, Any]:
        marketplaces = [{"id": channel, "type": "MARKETPLACE", "connector": "push_api",
                         "conn_id": f"{self.client}_{channel}".replace("-", "_")} for channel in self.channels]
        erp = {"id": "erp", "type": "ERP", "connector": self.erp_connector, "conn_id": self.erp_conn_id,
               "jobs": {job.value: {"enabled": self.enabled} for job in ChannelJobName},
               "mapping": {channel: {"erp_channel_name": name} for channel, name in self.channels.items()}}
        return {"client": self.client, "owner": self.owner, "channels": [*marketplaces, erp]}


def planned_client(client: NewClient, clients_dir: Path) -> Client:
    """The client as its file would make it; refused (names, an existing client, the file's rules) first."""
    _require_names(("client", client.client), *(("channel", channel) for channel in client.channels))
    existing = load_client_config(clients_dir)
    if client.client in existing.clients:
        raise OnboardingRefused(f"client {client.client!r} is already configured in "
                                f"{existing.clients[client.client].source}")
    try:
        return Client.model_validate(client.document())
    except ValidationError as exc:
        raise OnboardingRefused(str(exc)) from None


def add_client_file(client: NewClient, clients_dir: Path) -> tuple[Path, Client]:
    """The client's file, validated as the DAG file reads it; refused if the client exists."""
    planned_client(client, clients_dir)
    header = f"# Client {client.client}, written by `channelhub client add`; see docs/client-channels.md.\n"
    path = place_new_file(clients_dir, f"{client.client}.yaml",
                          header + dump_yaml(client.document()), load_client_file)
    return path, load_client_file(path)
