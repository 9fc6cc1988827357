"""Makes a freshly initialised Tryton database ready to take the hub's documents (run once per
template, in-process through proteus): a company with a chart of accounts and a fiscal year,
a product category, the products the tests and the demo sell, the parties they sell to, and
the countries of their customers' addresses.

``python -m channelhub_dev.tryton_setup <trytond.conf> <database>``
"""

from __future__ import annotations

import sys
from decimal import Decimal

#: SKU, name, list price: the products of tests/factories.py and the demo tenant.
PRODUCTS = [("111", "Tee S", "499"), ("112", "Tee M", "499"), ("221", "Jeans 32", "1200"),
            ("222", "Jeans 34", "1200"), ("331", "Cap", "299")]
#: Customer parties are found by the ERP channel name; suppliers by the partner code.
PARTIES = [("AMAZON_INDIA", "Amazon India"), ("MYNTRA", "Myntra"), ("OFFLINE_POS", "Stores"),
           ("AMAZON_IN", "Amazon India (acme)"), ("SUP1", "Supplier One"),
           ("WEBSHOP_GUEST", "Webshop guest")]  # the order sync's default debtor
#: Payment terms a shop's payment methods map to: name, days until due.
PAYMENT_TERMS = [("Immediate", 0), ("Net 30", 30)]
#: Countries addresses name by ISO code (Tryton's own list is imported from pycountry, which
#: a test server need not have).
COUNTRIES = [("NL", "Netherlands"), ("BE", "Belgium"), ("DE", "Germany"), ("GB", "United Kingdom"),
             ("IN", "India"), ("US", "United States")]


def set_up(config_file: str, database: str) -> None:
    from proteus import Model, config

    config.set_trytond(database=database, config_file=config_file)
    from trytond.modules.account.tests.tools import create_chart, create_fiscalyear, get_accounts
    from trytond.modules.account_invoice.tests.tools import set_fiscalyear_invoice_sequences
    from trytond.modules.company.tests.tools import create_company, get_company

    create_company()
    company = get_company()
    fiscal_year = set_fiscalyear_invoice_sequences(create_fiscalyear(company))
    fiscal_year.click("create_period")
    create_chart(company)
    accounts = get_accounts(company)
    category = Model.get("product.category")(name="Goods", accounting=True)
    category.account_expense, category.account_revenue = accounts["expense"], accounts["revenue"]
    category.save()
    unit, = Model.get("product.uom").find([("name", "=", "Unit")])
    template = Model.get("product.template")
    for code, name, price in PRODUCTS:
        template(name=name, code=code, type="goods", salable=True, purchasable=True, list_price=Decimal(price),
                 default_uom=unit, sale_uom=unit, purchase_uom=unit, account_category=category).save()
    party = Model.get("party.party")
    for code, name in PARTIES:
        party(name=name, code=code).save()  # with one address, which sales and shipments need
    country = Model.get("country.country")
    for code, name in COUNTRIES:
        country(name=name, code=code).save()
    payment_term = Model.get("account.invoice.payment_term")
    for name, days in PAYMENT_TERMS:
        term = payment_term(name=name)
        term.lines.new(type="remainder").relativedeltas.new(days=days)
        term.save()


if __name__ == "__main__":
    set_up(*sys.argv[1:3])
