"""The hub's SFTP sessions: the sftp provider's hook, confined to one tenant, with a bound on every wait.

**One tenant per session.** With ``tenant_login`` in the connection's extra (a template such
as ``"hub-{tenant}"``), the hub logs in to each tenant's folder as that tenant's own hub user,
which the server chroots to the tenant's root ``irism-<tenant>/`` (docs/security.md): a link
the tenant makes, or swaps in between the hub's check and its use, resolves inside that
tenant's root, so the hub can never be made to read, write, move or remove another tenant's
file. Paths are then the project folder as that user sees it (``main``, not
``irism-acme/main``). Without it the connection's own user serves every tenant, which is safe
only on a server where tenants cannot make links (the hub's local server); the production
OpenSSH setup must set it.

**Bounded waits.** paramiko waits forever by default for a server that stops answering
mid-transfer, and the task would sit on its SFTP pool slot with no error. Here the connect is
bounded by the connection's ``conn_timeout`` (the ssh provider's, 10 s unless set) and every
read or write by ``io_timeout`` in the connection's extra (seconds, default 60): past it the
call raises ``TimeoutError`` and the task fails into its retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from airflow.providers.sftp.hooks.sftp import SFTPHook
from paramiko import SFTPClient

from channelhub.config.tenants import TENANT_ROOT_PREFIX

DEFAULT_IO_TIMEOUT = 60.0


@dataclass(frozen=True)
class TenantRoute:
    """How the hub reaches one project folder: as which SFTP user (None: the connection's own),
    and the folder as that user's session sees it."""

    username: str | None
    folder: str


def tenant_route(extra: dict[str, Any], folder: str) -> TenantRoute:
    """The route to ``folder`` (``irism-<tenant>/<project...>``, as the config guarantees) on a
    connection with these extras; see the module docs."""
    template = extra.get("tenant_login")
    if not template:
        return TenantRoute(None, folder)
    root, _, inner = folder.partition("/")
    if not root.startswith(TENANT_ROOT_PREFIX) or not inner:
        raise ValueError(f"{folder!r} is not a folder under a tenant root {TENANT_ROOT_PREFIX}<tenant>/")
    return TenantRoute(str(template).format(tenant=root.removeprefix(TENANT_ROOT_PREFIX)), inner)


class TenantSftpHook(SFTPHook):
    """An SFTP session on one tenant's project ``folder``, with I/O timeouts; ``route.folder`` is the
    folder as the session sees it."""

    hook_name = "Channel Hub tenant SFTP"

    def __init__(self, ssh_conn_id: str, folder: str, **kwargs: Any) -> None:
        extra = self.get_connection(ssh_conn_id).extra_dejson
        self.route = tenant_route(extra, folder)
        if self.route.username is not None:
            kwargs["username"] = self.route.username
        super().__init__(ssh_conn_id=ssh_conn_id, **kwargs)
        self.io_timeout = float(extra.get("io_timeout", DEFAULT_IO_TIMEOUT))

    @contextmanager
    def session(self) -> Iterator[SFTPClient]:
        """One SFTP session whose every wait for the server ends after ``io_timeout``."""
        with self.get_managed_conn() as sftp:
            sftp.get_channel().settimeout(self.io_timeout)
            yield sftp
