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
- ``{split: path, take: first | rest}``: a text's first word, or what follows it (a person's
  name kept whole by one side and as first and last name by the other);
- ``{each: path, fields: {...}}``: a list of records, each mapped with its own fields.

A target field named with dots (``bill_address.city``) is made inside nested records, for a
side that keeps an address as one record.

Any of them takes ``truncate: N``: a text longer than N characters is cut at the last word that
fits and ends with "…" (a short description from a long one, for an ERP that keeps one text);
``required: true``: an empty result holds the record; and ``pattern`` (with
``explain``): a target's rule for the value, such as a SKU of digits only, which a value that
does not match in full holds the record with, naming field, value and rule. Rules are
``{when: <expression>, then: skip|hold, message: ...}``; the expression is Python-like
(comparisons, ``and``/``or``/``not``, ``in``, ``len``, ``lower``) over the source record's
fields, evaluated by ``simpleeval`` (never ``eval``), and checked when the config loads: only
those node kinds, the functions in ``FUNCTIONS``, the methods in ``METHODS`` (no ``format``,
no dunder, no lambda or comprehension), literals of bounded size and exponents of at most
``MAX_EXPONENT``. Each evaluation has a budget (steps and number size) per record; a rule
past it holds that record with the reason.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from simpleeval import EvalWithCompoundTypes, InvalidExpression

from channelhub.exceptions import MappingError
from channelhub.formats.registry import schemas_dir
from channelhub.strict import StrictModel
from channelhub.yamlfile import describe_validation_error, read_yaml

FLOWS = ("orders", "products", "stock", "customers_to_erp", "customers_to_shop")  # each a default mapping
KINDS = ("from", "constant", "lookup", "format", "concat", "split", "each")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.]*)\}")
FUNCTIONS = {"len": len, "lower": lambda v: str(v).lower(), "upper": lambda v: str(v).upper(),
             "str": str, "int": int, "float": float, "abs": abs}
METHODS = frozenset({"lower", "upper", "strip", "startswith", "endswith", "get"})
ALLOWED_NODES = (ast.Expression, ast.Expr, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
                 ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod, ast.FloorDiv, ast.Pow, ast.Compare,
                 ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot,
                 ast.Name, ast.Load, ast.Constant, ast.Call, ast.Attribute, ast.Subscript, ast.List, ast.Tuple,
                 ast.Set, ast.Dict, ast.IfExp)
MAX_RULE_LENGTH = 1000
MAX_LITERAL = 1000
MAX_INT_LITERAL = 10**18
MAX_EXPONENT = 64
MAX_COLLECTION = 200
EVAL_BUDGET = 10_000
MAX_NUMBER_BITS = 4096
MAX_PATTERN = 200
MAX_CHECKED = 1000  # characters of a value a pattern is matched against; a longer one does not match
MISSING = object()


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    required: bool = False
    #: A target's rule for the value (e.g. digits-only SKUs): a value that does not match
    #: holds the record, naming the field, the value and ``explain``.
    pattern: str | None = Field(default=None, min_length=1, max_length=MAX_PATTERN)
    explain: str | None = Field(default=None, min_length=1, max_length=200)
    truncate: int | None = Field(default=None, ge=2, le=100_000)

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r} is not a regular expression: {exc}") from None
        return pattern


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


class SplitSpec(_Spec):
    split: str = Field(min_length=1)
    take: Literal["first", "rest"]


class EachSpec(_Spec):
    each: str = Field(min_length=1)
    fields: dict[str, Any]


SPECS: dict[str, type[_Spec]] = {"from": FromSpec, "constant": ConstantSpec, "lookup": LookupSpec,
                                 "format": FormatSpec, "concat": ConcatSpec, "split": SplitSpec,
                                 "each": EachSpec}


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
    make = _make(name, spec) if spec.truncate is None else _truncated(_make(name, spec), spec.truncate)
    if not spec.required and spec.pattern is None:
        return make
    pattern = re.compile(spec.pattern) if spec.pattern is not None else None

    def checked(record: dict[str, Any]) -> Any:
        value = make(record)
        if _empty(value):
            if spec.required:
                raise MappingError(f"{name} is required but the record gives none")
            return value
        text = str(value)
        if pattern is not None and (len(text) > MAX_CHECKED or not pattern.fullmatch(text)):
            raise MappingError(f"{name} {text[:80]!r} does not match {spec.pattern}"
                               + (f": {spec.explain}" if spec.explain else ""))
        return value

    return checked


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
    if isinstance(spec, SplitSpec):
        def split(record: dict[str, Any]) -> str:
            words = str(resolve(record, spec.split) or "").split(None, 1)
            if spec.take == "first":
                return words[0] if words else ""
            return words[1] if len(words) > 1 else ""
        return split
    assert isinstance(spec, EachSpec)
    inner = {field: compile_field(f"{name}.{field}", value) for field, value in spec.fields.items()}
    return lambda record: [{field: make(item) for field, make in inner.items()}
                           for item in (resolve(record, spec.each) or []) if isinstance(item, dict)]


def _truncated(make: Transform, limit: int) -> Transform:
    """A text longer than ``limit`` cut at its last word that fits (a word longer than half the
    limit is cut inside), ending with an ellipsis, so the result is at most ``limit`` characters."""
    def cut(record: dict[str, Any]) -> Any:
        value = make(record)
        if not isinstance(value, str) or len(value) <= limit:
            return value
        head = value[:limit]
        word_end = max(head.rfind(" "), head.rfind("\n"))
        return (head[:word_end] if word_end >= limit // 2 else head[:limit - 1]).rstrip() + "…"
    return cut


class _BudgetedEval(EvalWithCompoundTypes):
    """simpleeval with a budget: at most ``EVAL_BUDGET`` steps per record and no number past
    ``MAX_NUMBER_BITS``, so no rule can hold a worker however its record looks."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.steps = 0

    def _eval(self, node: ast.AST) -> Any:
        self.steps += 1
        if self.steps > EVAL_BUDGET:
            raise RuleTooCostly(f"it took more than {EVAL_BUDGET:,} steps")
        result = super()._eval(node)
        if isinstance(result, int) and not isinstance(result, bool) and result.bit_length() > MAX_NUMBER_BITS:
            raise RuleTooCostly(f"it made a number of more than {MAX_NUMBER_BITS:,} bits")
        return result


class RuleTooCostly(Exception):
    """A rule's evaluation ran past its budget for one record."""


def check_expression(text: str) -> None:
    """Raises ValueError unless a rule's expression is one the mapper can evaluate safely: only
    the node kinds, functions and methods allowed here, bounded literals and exponents."""
    if len(text) > MAX_RULE_LENGTH:
        raise ValueError(f"rule of {len(text):,} characters: at most {MAX_RULE_LENGTH}")
    try:
        tree = _BudgetedEval(functions=dict(FUNCTIONS)).parse(text)
    except (SyntaxError, InvalidExpression, ValueError) as exc:
        raise ValueError(f"rule {text!r} cannot be read: {exc}") from None
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        problem = _unsafe(node, called)
        if problem:
            raise ValueError(f"rule {text!r} is refused: {problem}")


def _unsafe(node: ast.AST, called: set[int]) -> str | None:
    """Why a node may not be in a rule, or None (``called``: the ids of the nodes called)."""
    if not isinstance(node, ALLOWED_NODES):
        return f"{type(node).__name__} is not allowed in a rule ({_shown_nodes()})"
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        return "names starting with _ are not allowed"
    if isinstance(node, ast.Attribute) and node.attr not in METHODS:
        return f"attribute {node.attr!r} is not allowed; methods: {', '.join(sorted(METHODS))}"
    if isinstance(node, ast.Call):
        if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args):
            return "calls take plain arguments only"
        if isinstance(node.func, ast.Name) and node.func.id not in FUNCTIONS:
            return f"unknown function {node.func.id!r}; functions: {', '.join(FUNCTIONS)}"
        if not isinstance(node.func, ast.Name | ast.Attribute):
            return "only named functions and methods can be called"
    if isinstance(node, ast.Attribute) and id(node) not in called:
        return f"{node.attr!r} can only be called"
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, str | bytes) and len(value) > MAX_LITERAL:
            return f"a text of {len(value):,} characters; at most {MAX_LITERAL}"
        if isinstance(value, int) and abs(value) > MAX_INT_LITERAL:
            return f"the number {str(value)[:20]}... is larger than {MAX_INT_LITERAL:,}"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        exponent = node.right
        if not (isinstance(exponent, ast.Constant) and isinstance(exponent.value, int | float)
                and abs(exponent.value) <= MAX_EXPONENT):
            return f"an exponent must be a number of at most {MAX_EXPONENT}"
    if isinstance(node, ast.List | ast.Tuple | ast.Set | ast.Dict):
        size = len(node.keys) if isinstance(node, ast.Dict) else len(node.elts)
        if size > MAX_COLLECTION:
            return f"a literal of {size} items; at most {MAX_COLLECTION}"
    return None


def _shown_nodes() -> str:
    return "comparisons, and/or/not, arithmetic, in, if-else, literals, the functions and methods listed"


@dataclass(frozen=True)
class FlowMapping:
    """A flow's compiled mapping: the default with the client's overrides and rules applied."""

    flow: str
    fields: dict[str, Transform]
    rules: tuple[Rule, ...]

    def map(self, record: dict[str, Any]) -> dict[str, Any]:
        """The target record; :class:`MappingError` names the field that could not be made."""
        target: dict[str, Any] = {}
        for name, make in self.fields.items():
            *parents, leaf = name.split(".")
            place = target
            for parent in parents:
                place = place.setdefault(parent, {})
            place[leaf] = make(record)
        return target

    def verdict(self, record: dict[str, Any]) -> tuple[str, str] | None:
        """``("skip" | "hold", message)`` from the first rule that applies, else None."""
        for rule in self.rules:
            evaluator = _BudgetedEval(names={**record, "record": record}, functions=dict(FUNCTIONS))
            try:
                applies = evaluator.eval(rule.when)
            except RuleTooCostly as exc:
                return "hold", f"rule {rule.when!r} was stopped: {exc} for this record"
            except Exception as exc:  # a rule that cannot be evaluated holds the record, never the run
                return "hold", f"rule {rule.when!r} could not be evaluated: {str(exc)[:300]}"
            if applies:
                return rule.then, rule.message
        return None


def mappings_dir() -> Path:
    """The default mappings: ``mappings/`` of the configured schemas folder (``CHANNELHUB_SCHEMAS_DIR``)."""
    return schemas_dir() / "mappings"


def default_mapping(flow: str, folder: Path | None = None) -> tuple[dict[str, Any], tuple[Rule, ...]]:
    """A flow's default fields and rules, read once per folder (``mappings_dir()`` unless given)."""
    return _read_default_mapping(flow, folder or mappings_dir())


@cache
def _read_default_mapping(flow: str, folder: Path) -> tuple[dict[str, Any], tuple[Rule, ...]]:
    document = read_yaml(folder / f"{flow}.yaml") or {}
    return document.get("fields") or {}, tuple(Rule.model_validate(r) for r in document.get("rules") or [])


def build_mapping(flow: str, overrides: dict[str, Any], extra_rules: tuple[Rule, ...] = (),
                  extra_fields: frozenset[str] | None = frozenset()) -> FlowMapping:
    """The flow's default mapping with per-field overrides and added rules; ValueError names any
    problem. An override may add a field the default lacks only among ``extra_fields`` (what the
    flow's target declares it takes); ``None`` leaves that check to the caller
    (:func:`unknown_fields`), which knows the target."""
    defaults, rules = default_mapping(flow)
    if extra_fields is not None:
        check_fields(flow, overrides, extra_fields, "")
    merged = {**defaults, **overrides}
    for rule in (*rules, *extra_rules):
        check_expression(rule.when)
    return FlowMapping(flow, {name: compile_field(name, spec) for name, spec in merged.items()},
                       (*rules, *extra_rules))


def unknown_fields(flow: str, overrides: dict[str, Any]) -> list[str]:
    """The override names ``flow``'s default mapping lacks."""
    defaults, _ = default_mapping(flow)
    return sorted(set(overrides) - set(defaults))


def check_fields(flow: str, overrides: dict[str, Any], extra_fields: frozenset[str], target: str) -> None:
    """ValueError naming every override field that neither the default mapping nor the target has."""
    unknown = [name for name in unknown_fields(flow, overrides) if name not in extra_fields]
    if unknown:
        defaults, _ = default_mapping(flow)
        takes = (f"; {target} also takes: {', '.join(sorted(extra_fields))}" if extra_fields
                 else f"; {target} takes no other fields" if target else "")
        raise ValueError(f"the {flow} mapping has no field(s) {', '.join(unknown)}; its fields: "
                         f"{', '.join(defaults)}{takes}")
