"""Format row rules: read as pandas' eval reads them, checked when the format loads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from channelhub import PROJECT_ROOT
from channelhub.formats import FileFormat
from channelhub.formats.expressions import RowExpression

COLUMNS = pd.DataFrame({
    "revenue": [100.0, 250.0, np.nan, 30.0, 0.0],
    "mrp": [50.0, 50.0, 50.0, np.nan, 10.0],
    "qty": [2, 3, 1, 1, -1],
    "channel": ["web", "store", "web", None, "web"],
})


@pytest.mark.parametrize("expression", [
    "revenue <= mrp * qty",
    "revenue / qty < mrp + 1",
    "qty % 2 == 1 or revenue >= 100",
    "not (revenue > 0) | (qty // 2 > 0)",
    "0 < qty <= 2 and channel == 'web'",
    "(channel != \"store\") & ~(revenue == 0)",
    "-qty < +mrp - 60",
    "qty > 0 & revenue > 50 | channel == 'store'",
])
def test_an_expression_means_what_pandas_eval_means(expression):
    frame = COLUMNS.astype({"channel": "object"})
    compiled = RowExpression(expression)
    ours = np.asarray(compiled.evaluate({name: frame[name].to_numpy() for name in compiled.names}))
    theirs = frame.eval(expression, engine="python").to_numpy()
    assert ours.tolist() == theirs.tolist()


def test_names_are_those_read_in_the_order_written():
    assert RowExpression("revenue <= mrp * qty or revenue < 0").names == ("revenue", "mrp", "qty")


@pytest.mark.parametrize(("expression", "expected"), [
    ("__import__('os').system('id')", "may not use Call"),
    ("revenue.__class__", "may not use Attribute"),
    ("revenue[0] > 1", "may not use Subscript"),
    ("qty ** 99999999", "may not use Pow"),
    ("[q for q in qty]", "may not use ListComp"),
    ("revenue > None", "may not use the constant None"),
    ("revenue <=", "cannot be read"),
    ("channel == 'web", "cannot be read"),
    ("1 < 2", "reads no column"),
    ("qty < " + "9" * 400, "is larger than"),
    ("revenue > 0 " + "and revenue > 0 " * 100, "at most 1000"),
])
def test_an_expression_that_is_not_a_row_rule_is_refused(expression, expected):
    with pytest.raises(ValueError, match=expected):
        RowExpression(expression)


def sales_format(expression: str) -> dict:
    spec = yaml.safe_load((PROJECT_ROOT / "schemas" / "daily_sales.yaml").read_text())
    spec["rules"][0]["expression"] = expression
    return spec


def test_a_format_whose_rule_is_refused_does_not_load_and_names_the_rule():
    with pytest.raises(ValidationError, match=r"rules\.0\.expression[\s\S]*may not use Call"):
        FileFormat.model_validate(sales_format("len(sku) > 3"))
    with pytest.raises(ValidationError, match="rule revenue_within_mrp reads price: neither a column nor a lookup"):
        FileFormat.model_validate(sales_format("revenue <= price * qty"))
    assert FileFormat.model_validate(sales_format("revenue <= mrp * qty")).rules[0].compiled.names == (
        "revenue", "mrp", "qty")
