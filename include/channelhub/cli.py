"""``channelhub``: the hub's command line for what the Airflow UI does not cover.

    channelhub credentials test <client> <channel>       the connector's check: PASS or the partner's error
    channelhub credentials generate <client> <channel>   external credentials for a push-based partner
    channelhub credentials list <client> <channel>       the pair's active credential usernames
    channelhub credentials revoke <username>             stops a credential at once
    channelhub ledger status <client>                    deliveries per job and status
    channelhub ledger requeue <client> <job>             FAILED deliveries of a job back to PENDING
    channelhub config check                              every tenant and client file: problems by file and key

Connections are Airflow's (environment, secrets backend or metadata database), so run it
where Airflow runs, with the same environment.
"""

from __future__ import annotations

import argparse
import sys

from channelhub.config.client_loader import load_client_config
from channelhub.config.clients import Channel, ChannelJobName, Client, job_dag_id
from channelhub.config.paths import clients_dir, config_dir
from channelhub.connectors import connector_hook
from channelhub.credentials import CredentialStore, PushNotAllowed
from channelhub.dagbuilder import load_config
from channelhub.ledger import DeliveryStatus, Ledger
from channelhub.productdb.hook import HubDbHook


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


def _client(client_name: str) -> Client:
    config = load_client_config(clients_dir())
    try:
        return config.get(client_name)
    except KeyError as exc:
        broken = "".join(f"\n  {error}" for error in config.errors)
        raise CliError(f"{exc.args[0]} in {clients_dir()}{broken}") from None


def _pair(client_name: str, channel_id: str) -> tuple[Client, Channel]:
    client = _client(client_name)
    try:
        return client, client.channel(channel_id)
    except KeyError as exc:
        raise CliError(f"{exc.args[0]} in {clients_dir()}") from None


def _store(hub_db_conn_id: str) -> CredentialStore:
    return CredentialStore(HubDbHook(hub_db_conn_id).get_engine())


def credentials_test(args: argparse.Namespace) -> int:
    client, channel = _pair(args.client, args.channel)
    ok, message = connector_hook(client, channel).test_connection()
    print(f"{'PASS' if ok else 'FAIL'}: {client.client}/{channel.id} ({channel.connector}, "
          f"connection {channel.conn_id}): {message}")
    return 0 if ok else 1


def credentials_generate(args: argparse.Namespace) -> int:
    client, channel = _pair(args.client, args.channel)
    try:
        credential = _store(client.hub_db_conn_id).generate(client.client, channel.id, channel.type)
    except PushNotAllowed as exc:
        raise CliError(str(exc)) from None
    print(f"External credentials for {client.client}/{channel.id}. The password is shown only now; "
          "only its hash is stored.")
    print(f"authUsername:   {credential.username}")
    print(f"authPassword:   {credential.password}")
    print(f"authDomainName: {credential.domain}")
    return 0


def credentials_list(args: argparse.Namespace) -> int:
    client, channel = _pair(args.client, args.channel)
    for username in _store(client.hub_db_conn_id).active(client.client, channel.id):
        print(username)
    return 0


def credentials_revoke(args: argparse.Namespace) -> int:
    if not _store(args.hub_db_conn_id).revoke(args.username):
        raise CliError(f"no active credential {args.username!r}")
    print(f"Revoked {args.username}")
    return 0


def _ledger(client_name: str) -> tuple[Client, Ledger]:
    client = _client(client_name)
    ledger = Ledger(HubDbHook(client.hub_db_conn_id).get_engine())
    ledger.create_tables()
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


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="channelhub", description="Channel Hub command line")
    groups = root.add_subparsers(dest="group", required=True)
    credentials = groups.add_parser("credentials", help="test, generate, list and revoke channel credentials")
    commands = credentials.add_subparsers(dest="command", required=True)
    for name, handler, help_text in [
        ("test", credentials_test, "call the connector's check for a client-channel pair"),
        ("generate", credentials_generate, "create external credentials a push-based partner calls the hub with"),
        ("list", credentials_list, "the active external credentials of a pair"),
    ]:
        command = commands.add_parser(name, help=help_text)
        command.add_argument("client")
        command.add_argument("channel")
        command.set_defaults(handler=handler)
    revoke = commands.add_parser("revoke", help="stop an external credential")
    revoke.add_argument("username")
    revoke.add_argument("--hub-db-conn-id", default=HubDbHook.default_conn_name)
    revoke.set_defaults(handler=credentials_revoke)
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
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except CliError as exc:
        print(f"channelhub: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
