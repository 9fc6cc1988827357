"""``tiny_shop``: a connector from outside the hub, declared like the hub's own."""

from channelhub.connectors.contract import Ability, ConnectionExtras, Connector


class TinyExtras(ConnectionExtras):
    greeting: str = "hello"


CONNECTOR = Connector(
    name="tiny_shop",
    hook_class="tiny_shop.hook.TinyShopHook",
    connection_type="tiny_shop",
    hook_name="Tiny shop",
    abilities=frozenset({Ability.TEST_CREDENTIALS}),
    description="a shop that only answers its check",
    extras=TinyExtras,
)
