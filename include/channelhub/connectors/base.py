"""The base of every connector's hook: it owns the channel's Airflow connection, carries the
connector's declaration (:class:`channelhub.connectors.contract.Connector`), and hands out the
sides of the contract the declaration lists.

Asking a hook for an ability its connector does not declare raises :class:`ConnectorCannot`
(the config check refuses such a channel before any task runs). The connection's ``extra`` is
parsed by the connector's extras model: an unknown or misspelt key, or a value of the wrong
type, is a :class:`ConnectionInvalid` naming the connection and the key, never a setting
silently ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from airflow.sdk.bases.hook import BaseHook
from pydantic import ValidationError

from channelhub.connectors.contract import (
    Ability,
    ConnectionExtras,
    Connector,
    DocumentPoster,
    ErpSide,
    ShopSide,
    StockReader,
)
from channelhub.exceptions import ConnectionInvalid, ConnectorCannot
from channelhub.yamlfile import describe_validation_error

if TYPE_CHECKING:
    from channelhub.config.clients import Channel, Client

E = TypeVar("E", bound=ConnectionExtras)


def parse_extras(model: type[E], conn_id: str, extra: dict[str, Any]) -> E:
    """``extra`` as ``model``, or :class:`ConnectionInvalid` naming the connection and each bad key."""
    try:
        return model.model_validate(extra)
    except ValidationError as exc:
        known = ", ".join(model.model_fields) or "none"
        problems = [p.replace("unknown key", f"not a setting of this connection (known: {known})")
                    for p in describe_validation_error(exc)]
        raise ConnectionInvalid(f"connection {conn_id}: extra " + "; extra ".join(problems[:5])) from None


class ConnectorHook(BaseHook):
    """A connector's hook; subclasses set ``connector`` and implement their abilities' methods."""

    connector: ClassVar[Connector]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "connector" in cls.__dict__:
            cls.conn_type = cls.connector.connection_type
            cls.hook_name = cls.connector.hook_name

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        # Airflow's connection Test button builds a hook as ``cls(<conn_name_attr>=conn_id)``.
        named = kwargs.pop(self.conn_name_attr, None)
        super().__init__(**kwargs)
        setattr(self, self.conn_name_attr, conn_id or named or self.default_conn_name)

    @property
    def conn_id(self) -> str:
        return getattr(self, self.conn_name_attr)

    @classmethod
    def for_channel(cls, client: Client, channel: Channel) -> ConnectorHook:
        """The hook of a client's channel (its connection; a connector may need the client too)."""
        return cls(channel.conn_id)

    def extras(self, extra: dict[str, Any]) -> Any:
        """The connection's extras, checked by the connector's model."""
        return parse_extras(self.connector.extras, self.conn_id, extra)

    def _cannot(self, ability: Ability) -> ConnectorCannot:
        return ConnectorCannot(f"connector {self.connector.name!r} cannot {ability.value}")

    def get_poster(self) -> DocumentPoster:
        raise self._cannot(Ability.POST_DOCUMENTS)

    def get_stock_reader(self) -> StockReader:
        raise self._cannot(Ability.READ_STOCK)

    def get_erp_side(self) -> ErpSide:
        raise self._cannot(Ability.CREATE_ORDERS)

    def get_shop_side(self, on_notice: Callable[[str], None] | None = None) -> ShopSide:
        raise self._cannot(Ability.PULL_ORDERS)

    def test_connection(self) -> tuple[bool, str]:
        raise self._cannot(Ability.TEST_CREDENTIALS)
