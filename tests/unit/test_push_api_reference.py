"""The push API's field reference in docs/client-channels.md is what the request models say."""

from channelhub.inbound.reference import DOC, documented, reference


def test_the_documented_fields_are_the_models_fields():
    assert documented(DOC.read_text()) == reference(), (
        "docs/client-channels.md is out of date: run `python -m channelhub.inbound.reference --write`")


def test_it_names_the_required_item_fields_a_new_partner_tripped_on():
    text = reference()
    assert "| `orderItems[].orderItemCode` | text | required |" in text
    assert "| `orderItems[].sellingPricePerUnit` | JSON number | required | >= 0; <= 1,000,000,000 |" in text
    assert "| `products[].channelSkuCode` | text | required |" in text
