"""The declarative data mapper of the sync flows: field mappings and rules as data, not code.

Each flow ships a default mapping, ``schemas/mappings/<flow>.yaml``: ``fields`` says how
every target field is made from the source record, ``rules`` which records to skip or
hold. A client file overrides any target field (only fields the default knows: a typo is
a config error naming file and key) and adds rules. A field is made by one of:

- ``"path"`` or ``{from: path, default: value}``: a source field (dotted for nested ones);
- ``{constant: value}``;
- ``{lookup: path, table: {source value: target value}, default: value}``: a source value
  with no entry and no default holds the record, naming the value;
- ``{format: "{first_name} {last_name}"}``: source fields placed in a text;
- ``{concat: [path, ...], separator: " "}``: the non-empty source values joined;
- ``{each: path, fields: {...}}``: a list of records, each mapped with its own fields.

Any of them takes ``required: true``: an empty result holds the record. Rules are
``{when: <expression>, then: skip|hold, message: ...}``; the expression is Python-like
(comparisons, ``and``/``or``/``not``, ``in``, ``len``, ``lower``) over the source record's
fields, evaluated by ``simpleeval`` (never ``eval``), and checked when the config loads.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from simpleeval import EvalWithCompoundTypes, InvalidExpression

from channelhub.exceptions import MappingError
from channelhub.formats.registry import DEFAULT_SCHEMAS_DIR
from channelhub.strict import StrictModel
from channelhub.yamlfile import describe_validation_error, read_yaml

MAPPINGS_DIR = DEFAULT_SCHEMAS_DIR / "mappings"
FLOWS = ("orders", "products", "stock")
KINDS = ("from", "constant", "lookup", "format", "concat", "each")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.]*)\}")
FUNCTIONS = {"len": len, "lower": lambda v: str(v).lower(), "upper": lambda v: str(v).upper(),
             "str": str, "int": int, "float": float, "abs": abs}
MISSING = object()


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    required: bool = False


class FromSpec(_Spec):
    from_: str = Field(alias="from", min_length=1)
    default: Any = None


class ConstantSpec(_Spec):
    constant: Any


class LookupSpec(_Spec):
    lookup: str = Field(min_length=1)
    table: dict[str, Any]
    default: Any = MISSING


class FormatSpec(_Spec):
    format: str = Field(min_length=1)


class ConcatSpec(_Spec):
    concat: list[str] = Field(min_length=1)
    separator: str = " "


class EachSpec(_Spec):
    each: str = Field(min_length=1)
    fields: dict[str, Any]


SPECS: dict[str, type[_Spec]] = {"from": FromSpec, "constant": ConstantSpec, "lookup": LookupSpec,
                                 "format": FormatSpec, "concat": ConcatSpec, "each": EachSpec}


class Rule(StrictModel):
    when: str = Field(min_length=1)
    then: Literal["skip", "hold"]
    message: str = Field(min_length=1, max_length=300)


def resolve(record: Any, path: str) -> Any:
    """A dotted path in nested dicts; None when any part is missing."""
    value = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


Transform = Callable[[dict[str, Any]], Any]


def compile_field(name: str, raw: Any) -> Transform:
    """One field's spec as a function of the source record; ValueError names what is wrong."""
    if isinstance(raw, str):
        raw = {"from": raw}
    if not isinstance(raw, dict):
        raise ValueError(f"field {name!r}: a mapping is a source field name or one of {', '.join(KINDS)}")
    kinds = [kind for kind in KINDS if kind in raw]
    if len(kinds) != 1:
        raise ValueError(f"field {name!r}: give exactly one of {', '.join(KINDS)} (found "
                         f"{', '.join(kinds) or 'none'})")
    try:
        spec = SPECS[kinds[0]].model_validate(raw)
    except ValidationError as exc:
        raise ValueError(f"field {name!r}: {'; '.join(describe_validation_error(exc))}") from None
    make = _make(name, spec)
    if not spec.required:
        return make

    def required(record: dict[str, Any]) -> Any:
        value = make(record)
        if _empty(value):
            raise MappingError(f"{name} is required but the record gives none")
        return value

    return required


def _make(name: str, spec: _Spec) -> Transform:
    if isinstance(spec, FromSpec):
        return lambda record: v if not _empty(v := resolve(record, spec.from_)) else spec.default
    if isinstance(spec, ConstantSpec):
        return lambda record: spec.constant
    if isinstance(spec, LookupSpec):
        def lookup(record: dict[str, Any]) -> Any:
            value = resolve(record, spec.lookup)
            if str(value) in spec.table:
                return spec.table[str(value)]
            if spec.default is not MISSING:
                return spec.default
            raise MappingError(f"{spec.lookup} {value!r} has no entry in the {name} table "
                               f"(known: {', '.join(sorted(spec.table)) or 'none'})")
        return lookup
    if isinstance(spec, FormatSpec):
        return lambda record: PLACEHOLDER.sub(lambda m: str(resolve(record, m.group(1)) or ""), spec.format).strip()
    if isinstance(spec, ConcatSpec):
        return lambda record: spec.separator.join(
            str(v) for path in spec.concat if not _empty(v := resolve(record, path)))
    assert isinstance(spec, EachSpec)
    inner = {field: compile_field(f"{name}.{field}", value) for field, value in spec.fields.items()}
    return lambda record: [{field: make(item) for field, make in inner.items()}
                           for item in (resolve(record, spec.each) or []) if isinstance(item, dict)]


def check_expression(text: str) -> None:
    """Raises ValueError when a rule's expression cannot be read or calls what rules may not."""
    try:
        tree = EvalWithCompoundTypes(functions=FUNCTIONS).parse(text)
    except (SyntaxError, InvalidExpression) as exc:
        raise ValueError(f"rule {text!r} cannot be read: {exc}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ValueError(f"rule {text!r} cannot be read: names starting with _ are not allowed")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in FUNCTIONS:
            raise ValueError(f"rule {text!r} cannot be read: unknown function {node.func.id!r}; "
                             f"functions: {', '.join(FUNCTIONS)}")


@dataclass(frozen=True)
class FlowMapping:
    """A flow's compiled mapping: the default with the client's overrides and rules applied."""

    flow: str
    fields: dict[str, Transform]
    rules: tuple[Rule, ...]

    def map(self, record: dict[str, Any]) -> dict[str, Any]:
        """The target record; :class:`MappingError` names the field that could not be made."""
        return {name: make(record) for name, make in self.fields.items()}

    def verdict(self, record: dict[str, Any]) -> tuple[str, str] | None:
        """``("skip" | "hold", message)`` from the first rule that applies, else None."""
        evaluator = EvalWithCompoundTypes(names={**record, "record": record}, functions=FUNCTIONS)
        for rule in self.rules:
            try:
                applies = evaluator.eval(rule.when)
            except Exception as exc:  # a rule that cannot be evaluated holds the record, never the run
                return "hold", f"rule {rule.when!r} could not be evaluated: {exc}"
            if applies:
                return rule.then, rule.message
        return None


@cache
def default_mapping(flow: str, folder: Path = MAPPINGS_DIR) -> tuple[dict[str, Any], tuple[Rule, ...]]:
    document = read_yaml(folder / f"{flow}.yaml") or {}
    return document.get("fields") or {}, tuple(Rule.model_validate(r) for r in document.get("rules") or [])


def build_mapping(flow: str, overrides: dict[str, Any], extra_rules: tuple[Rule, ...] = ()) -> FlowMapping:
    """The flow's default mapping with per-field overrides and added rules; ValueError names any problem."""
    defaults, rules = default_mapping(flow)
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ValueError(f"the {flow} mapping has no field(s) {', '.join(unknown)}; "
                         f"its fields: {', '.join(defaults)}")
    merged = {**defaults, **overrides}
    for rule in (*rules, *extra_rules):
        check_expression(rule.when)
    return FlowMapping(flow, {name: compile_field(name, spec) for name, spec in merged.items()},
                       (*rules, *extra_rules))
