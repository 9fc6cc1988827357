"""Sets up the local Oscar shop's template database after its migrations (run with Django set
up, by :mod:`channelhub_dev.oscar`): the site's address, a staff user for the hub's
connection, the partners (the hub's locations), a product class (with the text attributes
size, colour and ean that a variant carries), and the countries customers ship to. Products
come from the tests, the demo or product sync."""

from __future__ import annotations

import sys

import django


def main(staff: str, password: str, partners: list[str]) -> None:
    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.sites.models import Site
    from oscar.core.loading import get_model

    Site.objects.update_or_create(id=1, defaults={"domain": "127.0.0.1", "name": "Channel Hub local shop"})
    get_user_model().objects.create_superuser(username=staff, email=f"{staff}@shop.invalid", password=password)
    partner_model = get_model("partner", "Partner")
    for code in partners:
        partner_model.objects.create(code=code, name=f"Warehouse {code}")
    product_class = get_model("catalogue", "ProductClass").objects.create(name="Default", slug="default",
                                                                          track_stock=True)
    for code in ("size", "colour", "ean"):  # what a variant of Tryton's attribute set Apparel carries
        product_class.attributes.create(name=code.title(), code=code, type="text")
    country = get_model("address", "Country")
    for code, name in (("NL", "Netherlands"), ("BE", "Belgium"), ("DE", "Germany"), ("GB", "United Kingdom")):
        country.objects.create(iso_3166_1_a2=code, name=name, printable_name=name, is_shipping_country=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3].split(","))
