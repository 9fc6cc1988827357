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
#: Sales taxes per country (name, rate) and revenue accounts per country (code, name), as a
#: client's per-country order mapping names them.
TAXES = [("VAT NL 21%", "0.21"), ("MwSt DE 19%", "0.19")]
REVENUE_ACCOUNTS = [("8000-NL", "Revenue Netherlands"), ("8000-DE", "Revenue Germany")]
#: The employee a sale or invoice is made by where the ERP needs one (APIcenter's default number).
EMPLOYEE = ("999999", "Webshop desk")
#: Carriers an order's shipping method maps to (party code, name), and what shipping costs.
CARRIERS = [("POSTNL", "PostNL"), ("DHL", "DHL")]
SHIPPING = ("SHIP", "Shipping", "4.95")
#: A configurable product: a template (the parent) with a variant per size, each with its EAN,
#: in the sale category Clothing / Tees, under the attribute set Apparel.
TEE = ("TEE", "Classic tee", "19.95", [("-S", "S", "4006381333931"), ("-M", "M", "4006381333948"),
                                        ("-L", "L", "4006381333955")])


def set_up(config_file: str, database: str) -> None:
    from proteus import Model, config

    config.set_trytond(database=database, config_file=config_file)
    from trytond.modules.account.tests.tools import create_chart, create_fiscalyear, create_tax, get_accounts
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
    party = Model.get("party.party")
    template = Model.get("product.template")
    for code, name, price in PRODUCTS:
        template(name=name, code=code, type="goods", salable=True, purchasable=True, list_price=Decimal(price),
                 default_uom=unit, sale_uom=unit, purchase_uom=unit, account_category=category).save()
    for code, name in PARTIES:
        party(name=name, code=code).save()  # with one address, which sales and shipments need
    code, name, price = SHIPPING
    shipping = template(name=name, code=code, type="service", salable=True, list_price=Decimal(price),
                        default_uom=unit, sale_uom=unit, account_category=category)
    shipping.save()
    for code, name in CARRIERS:
        carrier_party = party(name=name, code=code)
        carrier_party.save()
        Model.get("carrier")(party=carrier_party, carrier_product=shipping.products[0]).save()
    sale_settings = Model.get("sale.configuration")(1)
    sale_settings.sale_shipment_cost_method = None  # a sale without a carrier charges no shipping
    sale_settings.save()
    attribute = Model.get("product.attribute")
    apparel = Model.get("product.attribute.set")(name="Apparel")
    for name in ("size", "colour"):
        apparel.attributes.append(attribute(name=name, string=name.title(), type_="char"))
    apparel.save()
    clothing = Model.get("product.category")(name="Clothing")
    clothing.save()
    tees = Model.get("product.category")(name="Tees", parent=clothing)
    tees.save()
    code, name, price, sizes = TEE
    tee = template(name=name, code=code, type="goods", salable=True, purchasable=True, list_price=Decimal(price),
                   default_uom=unit, sale_uom=unit, purchase_uom=unit, account_category=category,
                   attribute_set=apparel)
    tee.categories.append(tees)
    tee.products.pop()  # a template comes with one variant; these are made below
    for suffix, size, ean in sizes:
        variant = tee.products.new(suffix_code=suffix, attributes={"size": size, "colour": "navy"})
        variant.identifiers.new(type="ean", code=ean)
    tee.save()
    for name, rate in TAXES:
        tax = create_tax(Decimal(rate))
        tax.name = tax.description = name
        tax.save()
    account = Model.get("account.account")
    for code, name in REVENUE_ACCOUNTS:
        revenue = accounts["revenue"]
        account(name=name, code=code, type=revenue.type, parent=revenue.parent).save()
    code, name = EMPLOYEE
    desk = party(name=name, code=code)
    desk.save()
    Model.get("company.employee")(party=desk, company=company).save()
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
