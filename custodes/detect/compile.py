"""pySigma rules -> plain, picklable plans: a condition tree whose leaves are value tests.

A `Test` is one question about one Sigma field (`CommandLine contains " -enc "`); equal tests
are shared by every rule that asks them, so the matcher answers each once per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule
from sigma.types import (
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
    SigmaType,
    SpecialChars,
)

from custodes.detect.rules import RuleInfo, one_line
from custodes.errors import RuleError

#: The pseudo-field that keyword (field-less) detections search.
KEYWORDS = "keywords"

#: Kinds of test. String kinds compare case-insensitively unless `cased`.
STRING_KINDS = ("equals", "contains", "startswith", "endswith")


@dataclass(frozen=True, slots=True)
class Test:
    """One question about one field's value, e.g. (CommandLine, contains, " -enc ")."""

    field: str
    # equals contains startswith endswith like regex cidr lt lte gt gte null exists fieldref any
    kind: str
    value: str = ""
    cased: bool = False


#: A condition: ("test", Test) | ("and", (...)) | ("or", (...)) | ("not", node)
Node = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to match: its facts, its logsource and its condition over tests."""

    info: RuleInfo
    product: str | None
    category: str | None
    service: str | None
    condition: Node


class Unsupported(Exception):
    """A rule uses something the matcher cannot evaluate (e.g. an unexpanded placeholder)."""


def compile_rule(rule: SigmaRule) -> CompiledRule:
    """A pySigma rule as a plan; raises RuleError with the reason when it cannot compile."""
    info = RuleInfo.from_rule(rule)
    try:
        trees = [condition.parsed for condition in rule.detection.parsed_condition]
        node = any_of([convert(tree) for tree in trees])
    except (SigmaError, Unsupported) as error:
        raise RuleError(one_line(error), path=info.path or None, rule_id=info.id) from None
    logsource = rule.logsource
    return CompiledRule(info, logsource.product, logsource.category, logsource.service, node)


def convert(item: object) -> Node:
    """One node of pySigma's parsed condition as a plan node."""
    if isinstance(item, ConditionAND):
        return all_of([convert(arg) for arg in item.args])
    if isinstance(item, ConditionOR):
        return any_of([convert(arg) for arg in item.args])
    if isinstance(item, ConditionNOT):
        return ("not", convert(item.args[0]))
    if isinstance(item, ConditionFieldEqualsValueExpression):
        return value_node(item.field, item.value)
    if isinstance(item, ConditionValueExpression):
        return value_node(None, item.value)
    if isinstance(item, ConditionItem):
        raise Unsupported(f"condition element {type(item).__name__}")
    raise Unsupported(f"condition element {item!r}")


def all_of(nodes: list[Node]) -> Node:
    """AND of nodes, flattened."""
    return nodes[0] if len(nodes) == 1 else ("and", tuple(nodes))


def any_of(nodes: list[Node]) -> Node:
    """OR of nodes, flattened."""
    return nodes[0] if len(nodes) == 1 else ("or", tuple(nodes))


def value_node(field: str | None, value: SigmaType) -> Node:
    """The test(s) one Sigma value asks of one field (None: keywords, a full-text search)."""
    name = field if field is not None else KEYWORDS
    if isinstance(value, SigmaExpansion):
        return any_of([value_node(field, inner) for inner in value.values])
    if isinstance(value, SigmaString):
        return string_node(name, value, contains=field is None)
    if isinstance(value, SigmaBool):
        return ("test", Test(name, "equals", "true" if value.boolean else "false"))
    if isinstance(value, SigmaNumber):
        return ("test", Test(name, "equals", str(value.number)))
    if isinstance(value, SigmaNull):
        return ("test", Test(name, "null"))
    if isinstance(value, SigmaRegularExpression):
        flags = "".join(sorted(SigmaRegularExpression.sigma_to_re_flag[f] for f in value.flags))
        pattern = str(value.regexp)
        return ("test", Test(name, "regex", f"(?{flags}){pattern}" if flags else pattern, True))
    if isinstance(value, SigmaCIDRExpression):
        return ("test", Test(name, "cidr", str(value.network)))
    if isinstance(value, SigmaCompareExpression):
        return ("test", Test(name, value.op.name.lower(), str(value.number.number)))
    if isinstance(value, SigmaExists):
        return (
            ("test", Test(name, "exists"))
            if value.exists
            else ("not", ("test", Test(name, "exists")))
        )
    if isinstance(value, SigmaFieldReference):
        if value.starts_with or value.ends_with:
            raise Unsupported("fieldref with wildcards")
        return ("test", Test(name, "fieldref", value.field))
    raise Unsupported(f"value type {type(value).__name__}")


def string_node(field: str, value: SigmaString, *, contains: bool) -> Node:
    """A Sigma string: plain, *x*, x*, *x become fast tests; other wildcards a LIKE pattern."""
    if value.contains_placeholder():
        names = ", ".join(f"%{part.name}%" for part in value.s if isinstance(part, Placeholder))
        raise Unsupported(f"needs placeholder {names} (|expand), which has no value here")
    cased = isinstance(value, SigmaCasedString)
    parts = list(value.s)
    if parts and parts[0] == SpecialChars.WILDCARD_MULTI:
        parts, leading = parts[1:], True
    else:
        leading = contains
    if parts and parts[-1] == SpecialChars.WILDCARD_MULTI:
        parts, trailing = parts[:-1], True
    else:
        trailing = contains
    if all(isinstance(part, str) for part in parts):
        text = "".join(str(part) for part in parts)
        if not text:
            return ("test", Test(field, "any" if leading or trailing else "equals", ""))
        kind = {
            (True, True): "contains",
            (False, True): "startswith",
            (True, False): "endswith",
            (False, False): "equals",
        }[(leading, trailing)]
        return ("test", Test(field, kind, text, cased))
    return ("test", Test(field, "like", like_pattern(value.s, contains=contains), cased))


def like_pattern(parts: Sequence[object], *, contains: bool) -> str:
    """A Sigma wildcard string as a SQL LIKE pattern (`%`, `_`, backslash escapes)."""
    out: list[str] = ["%"] if contains else []
    for part in parts:
        if part == SpecialChars.WILDCARD_MULTI:
            out.append("%")
        elif part == SpecialChars.WILDCARD_SINGLE:
            out.append("_")
        elif isinstance(part, str):
            out.append(part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
        else:
            raise Unsupported(f"string part {part!r}")
    if contains:
        out.append("%")
    return "".join(out)
