"""``oscar``: a django-oscar webshop through django-oscar-api's admin API.

The connection (type ``channelhub_oscar``) holds the shop's URL in ``host`` (the API is under
``/api/``), a staff user in ``login`` and ``password`` (one session per run: the site must set
``OSCARAPI_BLOCK_ADMIN_API_ACCESS = False`` and paginate its API, as any site holding more
than a few hundred products does) and, in ``extra``: ``payment_method`` (what every order is
given as its payment method, ``invoice``: Oscar's API does not say how an order was paid),
``product_class`` (the slug products created by product sync get, ``default``), ``partner``
(the partner code whose stock records created products get; needed when the shop has more
than one), ``timeout`` (30 s), ``max_attempts`` (4) for 5xx and refused connections,
``max_pages`` (pages read by one listing, 500) and the answer bounds ``max_body`` and
``read_deadline`` shared by every HTTP connector. Any other extra is refused, naming it.

A location of a channel on this connector is an Oscar partner, named by its code: an order
belongs to it by the lines whose stock record is that partner's, and its stock is the
partner's stock records. A customer is an Oscar user (``/api/admin/users/``), found by email;
the site lists ``first_name`` and ``last_name`` (and ``is_staff``, so staff are not read as
customers) in ``OSCARAPI_ADMIN_USER_FIELDS``. What Oscar's API cannot do is declared, not
faked: it has no route that changes an order's status, so this connector does not report
shipments.
"""

from __future__ import annotations

from pydantic import Field

from channelhub.connectors.contract import Ability, Connector
from channelhub.connectors.http_common import BoundExtras, PositiveFloat, PositiveInt
from channelhub.connectors.lazy import lazy_exports


class OscarExtras(BoundExtras):
    payment_method: str = Field(default="invoice", min_length=1, max_length=100)
    product_class: str = Field(default="default", min_length=1, max_length=128)
    partner: str | None = Field(default=None, min_length=1, max_length=128)
    timeout: PositiveFloat = 30.0
    max_attempts: PositiveInt = 4
    max_pages: PositiveInt = 500


CONNECTOR = Connector(
    name="oscar",
    hook_class="channelhub.connectors.oscar.hook.OscarHook",
    connection_type="channelhub_oscar",
    hook_name="Channel Hub django-oscar shop",
    abilities=frozenset({Ability.PULL_ORDERS, Ability.PUSH_STOCK, Ability.PUSH_PRODUCTS, Ability.REMOVE_PRODUCTS,
                         Ability.READ_CUSTOMERS,
                         Ability.WRITE_CUSTOMERS, Ability.TEST_CREDENTIALS}),
    description="a django-oscar webshop through django-oscar-api's admin API (a staff user's session)",
    extras=OscarExtras,
    ui_fields={"hidden-fields": ["schema"], "relabeling": {"host": "Shop URL", "login": "Staff user"}},
)

_PUBLIC = {"OscarHook": "hook", "OscarClient": "client", "OscarShopSide": "shop_side"}
__getattr__ = lazy_exports(__name__, _PUBLIC)
__all__ = ["CONNECTOR", "OscarExtras", *_PUBLIC]
