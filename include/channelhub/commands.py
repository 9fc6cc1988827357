"""The ``channelhub`` commands: what the Airflow UI does not cover.

    channelhub credentials test <client> <channel>       the connector's check: PASS or the partner's error
    channelhub credentials generate <client> <channel> [--label L] [--allow CIDR,...] [--resources R,...]
                               [--methods M,...] [--expires DATE|Nd] [--per-second N] [--per-15min N] [--signed]
                                                         external credentials for a push-based partner
    channelhub credentials list <client> <channel>       the pair's active credentials and grants (no secret)
    channelhub credentials narrow <username> [--allow ...] [--resources ...] [--methods ...] [--expires ...]
                                                         a smaller grant, in place
    channelhub credentials rotate <username> [--overlap 24h]
                                                         a new secret; the old one holds for the overlap
    channelhub credentials revoke <username>             stops a credential at once
    channelhub ledger status <client>                    deliveries per job and status
    channelhub ledger requeue <client> <job>             FAILED deliveries of a job back to PENDING
    channelhub config check                              every tenant and client file: problems by file and key
    channelhub db upgrade                                the hub database to this code's schema (Alembic)
    channelhub tenant add <tenant> --timezone ... --email ...   a tenant's file, SFTP user and folders
    channelhub client add <client> --erp <connector>:<conn_id> --channel <id>=<ERP name>
                                                         a client's file, partner pool, push credentials
    channelhub airflow <args>                            Airflow's CLI in the same environment (beside make up)

Connections are Airflow's (environment, secrets backend or metadata database), so run it
where Airflow runs, with the same environment; beside ``make up`` it takes that stack's.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from channelhub.config.client_loader import load_client_config
from channelhub.config.clients import Channel, ChannelJobName, Client, job_dag_id
from channelhub.config.paths import clients_dir, config_dir, schemas_dir
from channelhub.config.tenants import TABLES
from channelhub.credentials import CredentialStore, ExternalCredential, Grant, Resource
from channelhub.credentials.checks import check_pair, last_check
from channelhub.credentials.grant import parse_methods, parse_networks, parse_resources
from channelhub.credentials.store import UNLIMITED
from channelhub.dagbuilder import load_config
from channelhub.exceptions import (
    ConsoleRefused,
    CredentialError,
    HubDbNotMigrated,
    OnboardingRefused,
    PushNotAllowed,
    UnknownChannel,
    UnknownClient,
)
from channelhub.hubdb.hook import HubDbHook
from channelhub.hubdb.migrate import require_current, upgrade
from channelhub.ledger import DeliveryStatus, Ledger
from channelhub.ledger.store import utcnow
from channelhub.onboarding import (
    NewClient,
    NewTenant,
    add_client_file,
    add_tenant_file,
    allowed_networks,
    new_sftp_password,
    openssh_commands,
    planned_client,
)
from channelhub.records.erasure import erase
from channelhub.records.retention import purge
from channelhub.sftp.users_file import SftpUser, append_user


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


def _client(client_name: str) -> Client:
    config = load_client_config(clients_dir())
    try:
        return config.get(client_name)
    except UnknownClient as exc:
        broken = "".join(f"\n  {error}" for error in config.errors)
        raise CliError(f"{exc} in {clients_dir()}{broken}") from None


def _pair(client_name: str, channel_id: str) -> tuple[Client, Channel]:
    client = _client(client_name)
    try:
        return client, client.channel(channel_id)
    except UnknownChannel as exc:
        raise CliError(f"{exc} in {clients_dir()}") from None


def _store(hub_db_conn_id: str) -> CredentialStore:
    return CredentialStore(HubDbHook(hub_db_conn_id).get_engine())


def _print_new_credential(client: str, channel: str, hub_db_conn_id: str, channel_type: str = "MARKETPLACE",
                          grant: Grant = UNLIMITED, label: str = "", signed: bool = False) -> None:
    """Generates a pair's external credential and shows it, the only time its password is seen."""
    credential = _store(hub_db_conn_id).generate(client, channel, channel_type, grant, label, signed)
    print(f"External credentials for {client}/{channel}. The password is shown only now; only its hash is stored.")
    _print_secrets(credential)
    print(f"Grant: {grant.summary()}")


def _print_secrets(credential: ExternalCredential) -> None:
    print(f"authUsername:   {credential.username}")
    print(f"authPassword:   {credential.password}")
    print(f"authDomainName: {credential.domain}")
    if credential.signing_secret:
        print(f"signing secret: {credential.signing_secret}  (HMAC-SHA256 key of X-Hub-Signature)")


def _listed(value: str | None) -> list[str] | None:
    return None if value is None else [part for part in value.split(",") if part.strip()]


def _expiry(value: str | None) -> datetime | None:
    """``--expires``: a date or time (UTC) or a number of days from now (``90d``)."""
    if value is None:
        return None
    if value.endswith("d") and value[:-1].isdigit():
        return utcnow() + timedelta(days=int(value[:-1]))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"--expires takes a date (2027-03-31), a UTC time (2027-03-31T12:00) or days (90d), "
                       f"not {value!r}") from None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _grant_parts(args: argparse.Namespace) -> dict[str, Any]:
    """The grant parts the command line gives (only those given)."""
    try:
        parts = {"networks": None if args.allow is None else parse_networks(_listed(args.allow) or []),
                 "resources": None if args.resources is None else parse_resources(_listed(args.resources) or []),
                 "methods": None if args.methods is None else parse_methods(_listed(args.methods) or []),
                 "expires_at": _expiry(args.expires), "per_second": args.per_second,
                 "per_window": args.per_15min}
    except CredentialError as exc:
        raise CliError(str(exc)) from None
    return parts


def _checked(client: Client, channel: Channel) -> tuple[bool, str]:
    """The connector's credential test of a pair, kept in the hub database as the pair's last check
    (when the hub database can be reached; the test's answer counts either way)."""
    engine = _kept(client, lambda engine: engine)
    return check_pair(engine, client, channel)


def _kept(client: Client, use: Callable[[sa.Engine], Any]) -> Any:
    """``use`` on the client's hub database; None, and a line saying why, when it cannot be reached."""
    from airflow.exceptions import AirflowNotFoundException

    try:
        engine = HubDbHook(client.hub_db_conn_id).get_engine()
        require_current(engine)
        return use(engine)
    except (AirflowNotFoundException, SQLAlchemyError, HubDbNotMigrated) as exc:
        print(f"(the check is not kept: hub database {client.hub_db_conn_id!r}: {str(exc).splitlines()[0][:200]})")
        return None


def credentials_test(args: argparse.Namespace) -> int:
    client, channel = _pair(args.client, args.channel)
    before = _kept(client, lambda engine: last_check(engine, client.client, channel.id))
    ok, message = _checked(client, channel)
    print(f"{'PASS' if ok else 'FAIL'}: {client.client}/{channel.id} ({channel.connector}, "
          f"connection {channel.conn_id}): {message}")
    if not ok:
        print("Last passed: " + (f"{before.last_passed_at:%Y-%m-%d %H:%M} UTC" if before and before.last_passed_at
                                 else "never"))
    return 0 if ok else 1


def credentials_generate(args: argparse.Namespace) -> int:
    client, channel = _pair(args.client, args.channel)
    grant = Grant(**_grant_parts(args))
    try:
        _print_new_credential(client.client, channel.id, client.hub_db_conn_id, channel.type, grant, args.label,
                              args.signed)
    except (PushNotAllowed, CredentialError) as exc:
        raise CliError(str(exc)) from None
    return 0


def credentials_list(args: argparse.Namespace) -> int:
    client, channel = _pair(args.client, args.channel)
    for info in _store(client.hub_db_conn_id).listed(client.client, channel.id):
        overlap = f"; previous secret valid until {info.previous_until:%Y-%m-%d %H:%M} UTC" if info.previous_until \
            else ""
        print(f"{info.username}  label {info.label or '-'!r}; made {info.created_at:%Y-%m-%d %H:%M} UTC; "
              f"{info.grant.summary()}; {'signed' if info.signed else 'unsigned'}{overlap}")
    return 0


def credentials_narrow(args: argparse.Namespace) -> int:
    try:
        grant = _store(args.hub_db_conn_id).narrow(args.username, **_grant_parts(args))
    except CredentialError as exc:
        raise CliError(str(exc)) from None
    print(f"Narrowed {args.username}: {grant.summary()}")
    return 0


def credentials_rotate(args: argparse.Namespace) -> int:
    value = args.overlap.strip().lower()
    if not (value[:-1].isdigit() and value[-1:] in ("h", "m", "d")):
        raise CliError(f"--overlap takes hours, minutes or days (24h, 30m, 2d), not {args.overlap!r}")
    unit = {"h": "hours", "m": "minutes", "d": "days"}[value[-1]]
    overlap = timedelta(**{unit: int(value[:-1])})
    try:
        credential = _store(args.hub_db_conn_id).rotate(args.username, overlap)
    except CredentialError as exc:
        raise CliError(str(exc)) from None
    print(f"Rotated {args.username}. The new secrets are shown only now; the previous ones stay valid for "
          f"{value} (until {utcnow() + overlap:%Y-%m-%d %H:%M} UTC), then only these.")
    _print_secrets(credential)
    return 0


def credentials_revoke(args: argparse.Namespace) -> int:
    if not _store(args.hub_db_conn_id).revoke(args.username):
        raise CliError(f"no active credential {args.username!r}")
    print(f"Revoked {args.username}")
    return 0


def _ledger(client_name: str) -> tuple[Client, Ledger]:
    client = _client(client_name)
    ledger = Ledger(HubDbHook(client.hub_db_conn_id).get_engine())
    require_current(ledger.engine)
    return client, ledger


def ledger_status(args: argparse.Namespace) -> int:
    client, ledger = _ledger(args.client)
    counts = ledger.status_counts(client.client)
    statuses = [status.value for status in DeliveryStatus]
    print(f"{'job':<28}" + "".join(f"{status:>9}" for status in statuses))
    for job in ChannelJobName:
        print(f"{job.value:<28}" + "".join(f"{counts.get((job.value, s), 0):>9}" for s in statuses))
    return 0


def ledger_requeue(args: argparse.Namespace) -> int:
    client, ledger = _ledger(args.client)
    try:
        job = ChannelJobName(args.job.upper())
    except ValueError:
        raise CliError(f"unknown job {args.job!r}; one of {', '.join(j.value for j in ChannelJobName)}") from None
    count = ledger.requeue(client.client, job)
    print(f"{count} FAILED {job.value} deliveries of {client.client} are PENDING again; "
          f"the next run of {job_dag_id(client.client, job)} posts them")
    return 0


def config_check(args: argparse.Namespace) -> int:
    """Reads every config file as the DAG file does; exit 1 naming each problem (for CI and before a deploy)."""
    loaded = load_config()
    projects, clients = len(loaded.tenants.projects) - len(loaded.skipped), len(loaded.clients.clients)
    print(f"{config_dir()}: {projects} tenant project(s); {clients_dir()}: {clients} client(s)")
    for error in loaded.errors:
        print(f"PROBLEM {error.path}")
        for problem in error.problems:
            print(f"  - {problem}")
    if loaded.errors:
        print(f"{len(loaded.errors)} file(s) would be skipped: their DAGs are not built")
        return 1
    print("OK: every file is valid")
    return 0


def tenant_add(args: argparse.Namespace) -> int:
    """The tenant's file, then its SFTP user: on the local server (``make up``) or as OpenSSH commands."""
    from airflow.sdk.bases.hook import BaseHook

    wait = {key: value for key, value in (("deadline", args.deadline), ("poke_interval", args.poke_interval),
                                          ("settle", args.settle)) if value}
    tenant = NewTenant(args.tenant, args.project or ["main"], args.tables, args.time, args.timezone, args.email,
                       args.ip, args.frequency, args.weekday, args.sftp_conn_id, args.client, not args.paused,
                       args.product_db_conn_id, wait)
    try:
        path, projects = add_tenant_file(tenant, config_dir(), schemas_dir())
    except OnboardingRefused as exc:
        raise CliError(f"tenant {args.tenant!r} not added: {exc}") from None
    print(f"Wrote {path}")
    for project in projects:
        state = "paused (unpause it in the UI)" if not project.enabled else "active"
        print(f"  DAG {project.dag_id}: {project.schedule.describe()}, {state}; "
              "it appears in the UI within a minute")
    users_file, sftp_root = os.environ.get("CHANNELHUB_SFTP_USERS_FILE"), os.environ.get("CHANNELHUB_SFTP_ROOT")
    if not (users_file and sftp_root):
        print("\nCreate the tenant's SFTP user on the OpenSSH server (as root; docs/security.md explains each line):")
        print(openssh_commands(args.tenant, projects))
        return 0
    password = new_sftp_password()
    root = Path(sftp_root) / f"irism-{args.tenant}"
    networks = allowed_networks(projects)
    try:
        append_user(Path(users_file), SftpUser(args.tenant, password, root, networks))
    except ValueError as exc:
        raise CliError(f"{exc}; the tenant file {path} was written, remove it to start again") from None
    for project in projects:
        (Path(sftp_root) / project.folder).mkdir(parents=True, exist_ok=True)
    server = BaseHook.get_connection(projects[0].sftp_conn_id)
    print(f"\nSFTP login for {args.tenant} (the password is shown only now; only its hash is kept):")
    print(f"  host {server.host} port {server.port}, user {args.tenant}, password {password}")
    print(f"  allowed from: {', '.join(networks) or 'anywhere'}")
    for project in projects:
        relative = project.folder.removeprefix(f"irism-{args.tenant}")
        print(f"  drop <table>-<YYYY-MM-DD>.tsv files of {project.project} in {relative}/")
    return 0


def client_add(args: argparse.Namespace) -> int:
    """The ERP connection's test, then the client's file (its jobs on only if the test passed), its ERP
    partner pool and push credentials."""
    from airflow.models.pool import Pool

    connector, _, conn_id = args.erp.partition(":")
    channels = dict(channel.partition("=")[::2] for channel in args.channel)
    if not conn_id or not all(channels.values()):
        raise CliError("--erp takes <connector>:<conn_id> and --channel takes <channel id>=<name in the ERP>")
    wanted = NewClient(args.client, connector, conn_id, channels, args.owner, not args.paused)
    try:
        planned = planned_client(wanted, clients_dir())
    except OnboardingRefused as exc:
        raise CliError(f"client {args.client!r} not added: {exc}") from None
    erp = planned.erp
    assert erp is not None  # the document always has its ERP channel
    # Test before live: the pair's jobs are switched on only once its connection passes.
    ok, message = _checked(planned, erp)
    try:
        path, client = add_client_file(dataclasses.replace(wanted, enabled=wanted.enabled and ok), clients_dir())
    except OnboardingRefused as exc:
        raise CliError(f"client {args.client!r} not added: {exc}") from None
    print(f"Credential test of {client.client}/{erp.id}: {'PASS' if ok else 'FAIL'} (connection {conn_id}): {message}")
    print(f"Wrote {path}; its DAGs appear in the UI within a minute" + ("" if ok or not wanted.enabled else
          ", paused: the connection did not pass its test"))
    if Pool.get_pool(erp.partner_pool) is None:
        Pool.create_or_update_pool(erp.partner_pool, erp.concurrency, f"calls to {conn_id} ({connector})", False)
        print(f"Created pool {erp.partner_pool} ({erp.concurrency} slots: calls in flight to the ERP)")
    for channel in channels:
        _print_new_credential(client.client, channel, client.hub_db_conn_id)
    if not ok:
        print(f"Fix connection {conn_id} (Admin > Connections, its Test button) until "
              f"`channelhub credentials test {client.client} {erp.id}` passes, then switch the client's "
              "DAGs on in the UI (each DAG's toggle)")
    return 0 if ok else 1


def db_upgrade(args: argparse.Namespace) -> int:
    """Creates or migrates the hub database; safe to run any number of times."""
    with HubDbHook(args.hub_db_conn_id).engine() as engine:
        before, after = upgrade(engine)
    change = f"revision {before or 'none'} -> {after}" if before != after else f"already at revision {after}"
    print(f"Hub database ({args.hub_db_conn_id}): {change}")
    return 0


def records_erase(args: argparse.Namespace) -> int:
    """Masks one person's data in the hub database (see :mod:`channelhub.records.erasure`)."""
    with HubDbHook(args.hub_db_conn_id).engine() as engine:
        require_current(engine)
        receipt = erase(engine, f"cli:{getpass.getuser()}", email=args.email, customer_id=args.customer_id,
                        note=args.note)
    changed = ", ".join(f"{table} {rows}" for table, rows in receipt["counts"].items() if rows) or "nothing found"
    print(f"Erase receipt {receipt['id']} ({receipt['subject_kind']}): {changed}")
    return 0


def records_purge(args: argparse.Namespace) -> int:
    """What the maintenance DAG does daily, now: every owner's retention from the config."""
    from channelhub.dagbuilder import load_config

    loaded = load_config()
    owners = {p.config.tenant: p.config.retention for p in loaded.tenants.projects
              if p.config.hub_db_conn_id == args.hub_db_conn_id}
    owners |= {c.config.client: c.config.retention for c in loaded.clients.clients.values()
               if c.config.hub_db_conn_id == args.hub_db_conn_id}
    with HubDbHook(args.hub_db_conn_id).engine() as engine:
        require_current(engine)
        removed = purge(engine, owners).as_dict()
    for what, rows in removed.items():
        print(f"{what:<32} {rows} row(s)")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="channelhub", description="Channel Hub command line")
    groups = root.add_subparsers(dest="group", required=True)
    credentials = groups.add_parser("credentials",
                                    help="test, generate, list, narrow, rotate and revoke channel credentials")
    commands = credentials.add_subparsers(dest="command", required=True)
    pairs = {}
    for name, handler, help_text in [
        ("test", credentials_test, "call the connector's check for a client-channel pair"),
        ("generate", credentials_generate, "create external credentials a push-based partner calls the hub with"),
        ("list", credentials_list, "the active external credentials of a pair, with their grants (no secret)"),
    ]:
        pairs[name] = command = commands.add_parser(name, help=help_text)
        command.add_argument("client")
        command.add_argument("channel")
        command.set_defaults(handler=handler)
    pairs["generate"].add_argument("--label", default="", help="what the credential is for (shown by list)")
    pairs["generate"].add_argument("--signed", action="store_true",
                                   help="the partner signs each request (HMAC-SHA256; the signing secret is shown)")
    narrow = commands.add_parser("narrow", help="a smaller grant for a credential, in place")
    for command in (pairs["generate"], narrow):
        command.add_argument("--allow", help="addresses and CIDR networks it may call from, comma-separated "
                                             "(default: any)")
        command.add_argument("--resources", help=f"push API resources it may use, comma-separated, of: "
                                                 f"{', '.join(r.value for r in Resource)} (default: all)")
        command.add_argument("--methods", help="HTTP methods it may use, comma-separated (default: all)")
        command.add_argument("--expires", help="a date, a UTC time or days from now (90d) (default: never)")
        command.add_argument("--per-second", type=int, help="calls a second at most (default: unlimited)")
        command.add_argument("--per-15min", type=int, help="calls per 15 minutes at most (default: unlimited)")
    rotate = commands.add_parser("rotate", help="a new secret; the previous one stays valid for the overlap")
    rotate.add_argument("--overlap", default="24h", help="how long the previous secret stays valid (default 24h)")
    revoke = commands.add_parser("revoke", help="stop an external credential")
    for command, handler in ((narrow, credentials_narrow), (rotate, credentials_rotate), (revoke, credentials_revoke)):
        command.add_argument("username")
        command.add_argument("--hub-db-conn-id", default=HubDbHook.default_conn_name)
        command.set_defaults(handler=handler)
    ledger = groups.add_parser("ledger", help="what the channel jobs did, and re-posting rejected documents")
    ledger_commands = ledger.add_subparsers(dest="command", required=True)
    status = ledger_commands.add_parser("status", help="deliveries per job and status")
    status.add_argument("client")
    status.set_defaults(handler=ledger_status)
    requeue = ledger_commands.add_parser("requeue", help="FAILED deliveries of a job back to PENDING")
    requeue.add_argument("client")
    requeue.add_argument("job", help="e.g. SALES_POSTING")
    requeue.set_defaults(handler=ledger_requeue)
    config = groups.add_parser("config", help="check the tenant and client files")
    config_commands = config.add_subparsers(dest="command", required=True)
    config_commands.add_parser("check", help="every problem by file and key; exit 1 if any").set_defaults(
        handler=config_check)
    records = groups.add_parser("records", help="retention and erasure of what the hub keeps").add_subparsers(
        dest="command", required=True)
    erase_command = records.add_parser("erase", help="mask one person's data everywhere; keep a receipt")
    subject = erase_command.add_mutually_exclusive_group(required=True)
    subject.add_argument("--email")
    subject.add_argument("--customer-id")
    erase_command.add_argument("--note", required=True, help="why: e.g. the request's reference")
    erase_command.add_argument("--hub-db-conn-id", default=HubDbHook.default_conn_name)
    erase_command.set_defaults(handler=records_erase)
    purge_command = records.add_parser("purge", help="remove what is past retention now (the maintenance DAG's job)")
    purge_command.add_argument("--hub-db-conn-id", default=HubDbHook.default_conn_name)
    purge_command.set_defaults(handler=records_purge)
    db = groups.add_parser("db", help="the hub database's schema").add_subparsers(dest="command", required=True)
    db_command = db.add_parser("upgrade", help="create or migrate the hub database to this code's revision")
    db_command.add_argument("--hub-db-conn-id", default=HubDbHook.default_conn_name)
    db_command.set_defaults(handler=db_upgrade)
    tenant = groups.add_parser("tenant", help="onboard an SFTP tenant").add_subparsers(dest="command", required=True)
    add = tenant.add_parser("add", help="write the tenant's file; create its SFTP user and folders")
    add.add_argument("tenant")
    add.add_argument("--project", action="append", help="a project (repeatable); default main")
    add.add_argument("--tables", nargs="+", default=list(TABLES), choices=TABLES, metavar="TABLE",
                     help=f"default all: {' '.join(TABLES)}")
    add.add_argument("--time", default="09:00", help="trigger time HH:MM in the tenant's timezone")
    add.add_argument("--timezone", required=True, help="IANA timezone, e.g. Asia/Kolkata")
    add.add_argument("--frequency", default="daily", choices=["daily", "weekly", "manual"])
    add.add_argument("--weekday", help="with --frequency weekly")
    add.add_argument("--email", action="append", required=True, help="status email recipient (repeatable)")
    add.add_argument("--ip", action="append", default=[], help="allowed IP or CIDR of the tenant (repeatable)")
    add.add_argument("--sftp-conn-id", default="channelhub_sftp")
    add.add_argument("--client", help="the client whose ERP gets this tenant's daily_sales")
    add.add_argument("--product-db-conn-id", default="channelhub_product_db",
                     help="the product database's connection (e.g. one of type postgres)")
    add.add_argument("--deadline", help="how long a table's file is waited for (default 3h; s, m, h, d)")
    add.add_argument("--poke-interval", help="how often the wait looks (default 5m)")
    add.add_argument("--settle", help="a file modified more recently is still being written (default 60s)")
    add.add_argument("--paused", action="store_true", help="create the DAGs paused")
    add.set_defaults(handler=tenant_add)
    groups.add_parser("airflow", add_help=False,
                      help="Airflow's own CLI in the same environment, e.g. `channelhub airflow dags trigger "
                           "sftp__demo__main --logical-date 2026-11-20T09:00:00+05:30` beside make up")
    client = groups.add_parser("client", help="onboard a client").add_subparsers(dest="command", required=True)
    add = client.add_parser("add", help="write the client's file; its partner pool and push credentials")
    add.add_argument("client")
    add.add_argument("--erp", required=True, help="<connector>:<conn_id>, e.g. tryton:acme_tryton; make the "
                                                  "connection first (UI, Admin > Connections)")
    add.add_argument("--channel", action="append", required=True,
                     help="<marketplace channel id>=<its name in the ERP> (repeatable), pushing via the push API")
    add.add_argument("--owner", default="channelhub")
    add.add_argument("--paused", action="store_true", help="create the ERP jobs' DAGs paused")
    add.set_defaults(handler=client_add)
    return root


def run(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except (CliError, ConsoleRefused) as exc:
        print(f"channelhub: {exc}", file=sys.stderr)
        return 2

