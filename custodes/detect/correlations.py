"""Sigma correlation rules as plain data: what to count, per which group, in which timespan.

`Correlation.from_sigma` reads a resolved pySigma `SigmaCorrelationRule` (event_count,
value_count, temporal, temporal_ordered; group-by, aliases, timespan, condition gt/gte/lt/lte/
eq/neq or, for temporal types, an extended boolean condition over rule names). A range
(`{gte: 3, lte: 5}`), which pySigma 2 refuses, is split by `split_range` before pySigma sees it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sigma.correlations import (
    CorrelationConditionAND,
    CorrelationConditionItem,
    CorrelationConditionNOT,
    CorrelationConditionOR,
    SigmaCorrelationCondition,
    SigmaCorrelationRule,
    SigmaExtendedCorrelationCondition,
    SigmaRuleReference,
)
from sigma.rule import SigmaRule

from custodes.errors import RuleError

SUPPORTED_TYPES = ("event_count", "value_count", "temporal", "temporal_ordered")
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "gt": lambda value, count: value > count,
    "gte": lambda value, count: value >= count,
    "lt": lambda value, count: value < count,
    "lte": lambda value, count: value <= count,
    "eq": lambda value, count: value == count,
    "neq": lambda value, count: value != count,
}

#: A boolean expression over input positions: ("ref", i) | ("and"|"or", parts) | ("not", part).
Expression = tuple[Any, ...]


def rule_key(rule: SigmaRule | SigmaCorrelationRule) -> str:
    """The id a rule's alerts and hits carry: its UUID, else its name, else its title."""
    return str(rule.id) if rule.id else (rule.name or rule.title)


@dataclass(frozen=True, slots=True)
class Threshold:
    """A correlation condition: `value <op> count`, and for a range `value <upper_op> upper`."""

    op: str
    count: float
    upper_op: str | None = None
    upper: float = 0.0

    def holds(self, value: float) -> bool:
        """Whether a measured value meets the condition."""
        if self.upper_op is not None and not _OPERATORS[self.upper_op](value, self.upper):
            return False
        return _OPERATORS[self.op](value, self.count)

    @property
    def is_monotone(self) -> bool:
        """True when more events can only help (gt, gte): it may fire before the window ends."""
        return self.op in ("gt", "gte") and self.upper_op is None


def split_range(document: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, float] | None]:
    """A rule document whose condition is a range (`{gte: 3, lte: 5}`), as pySigma 2 accepts it
    (the lower bound only) and the upper bound we apply ourselves; other documents unchanged."""
    correlation = document.get("correlation")
    if not isinstance(correlation, dict) or not isinstance(correlation.get("condition"), dict):
        return document, None
    condition: dict[str, Any] = correlation["condition"]
    lower = [op for op in ("gt", "gte") if op in condition]
    upper = [op for op in ("lt", "lte") if op in condition]
    if len(lower) != 1 or len(upper) != 1 or not isinstance(condition[upper[0]], int | float):
        return document, None
    kept = {key: value for key, value in condition.items() if key != upper[0]}
    changed = {**document, "correlation": {**correlation, "condition": kept}}
    return changed, (upper[0], float(condition[upper[0]]))


def document_key(document: dict[str, Any]) -> str:
    """The rule key (see `rule_key`) of a rule still in its YAML form."""
    return str(document.get("id") or document.get("name") or document.get("title") or "")


@dataclass(frozen=True, slots=True)
class Correlation:
    """One correlation rule, its inputs named by rule key (base rules or other correlations)."""

    id: str
    title: str
    type: str
    inputs: tuple[str, ...]
    timespan_secs: int
    group_by: tuple[str, ...] = ()
    threshold: Threshold = Threshold("gte", 1)
    expression: Expression | None = None
    value_field: str | None = None
    aliases: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    level: str = ""
    tags: tuple[str, ...] = ()
    author: str = ""
    description: str = ""
    generate: bool = False

    @property
    def is_monotone(self) -> bool:
        """Whether a match can be reported as soon as it appears (no `not`, no upper bound)."""
        if self.expression is not None:
            return not _has_not(self.expression)
        return self.threshold.is_monotone

    def field_for(self, name: str, input_key: str) -> str:
        """The field a group-by name means in the events of one input (aliases applied)."""
        return self.aliases.get(name, {}).get(input_key, name)

    @classmethod
    def from_sigma(
        cls, rule: SigmaCorrelationRule, known: Mapping[str, str] | None = None
    ) -> Correlation:
        """The correlation a pySigma rule describes (RuleError if we cannot run it).

        Rule references are resolved through `known` (rule name or id -> rule id), else through
        pySigma's own resolution (`SigmaCollection.resolve_rule_references`).
        """
        key = rule_key(rule)
        kind = rule.type.name.lower()
        if kind not in SUPPORTED_TYPES:
            raise RuleError(f"correlation type {kind} is not supported", rule_id=key)
        references = rule.referenced_rules or [*(rule.rules or [])]
        if not references and isinstance(rule.condition, SigmaExtendedCorrelationCondition):
            names = rule.condition.get_referenced_rules()
            references = [SigmaRuleReference(name) for name in names]
        by_reference = {ref.reference: _resolve(ref, known, key) for ref in references}
        inputs = tuple(dict.fromkeys(by_reference.values()))
        if not inputs:
            raise RuleError("correlation names no rules", rule_id=key)
        threshold, expression, value_field = Threshold("gte", len(inputs)), None, None
        if isinstance(rule.condition, SigmaCorrelationCondition):
            condition = rule.condition
            threshold = Threshold(condition.op.name.lower(), float(condition.count))
            if isinstance(condition.fieldref, list):
                value_field = condition.fieldref[0] if condition.fieldref else None
            else:
                value_field = condition.fieldref
        elif isinstance(rule.condition, SigmaExtendedCorrelationCondition):
            expression = _expression(rule.condition.parsed, by_reference, inputs)
        if kind == "value_count" and not value_field:
            raise RuleError("value_count correlation without condition field", rule_id=key)
        aliases = {
            alias.alias: {
                by_reference.get(ref.reference, ref.reference): name
                for ref, name in alias.mapping.items()
            }
            for alias in rule.aliases
        }
        return cls(
            id=key,
            title=rule.title,
            type=kind,
            inputs=inputs,
            timespan_secs=rule.timespan.seconds,
            group_by=tuple(rule.group_by or ()),
            threshold=threshold,
            expression=expression,
            value_field=value_field,
            aliases=aliases,
            level=rule.level.name.lower() if rule.level else "",
            tags=tuple(str(tag) for tag in rule.tags),
            author=rule.author or "",
            description=(rule.description or "").strip(),
            generate=rule.generate,
        )


def _resolve(reference: SigmaRuleReference, known: Mapping[str, str] | None, key: str) -> str:
    if known is not None and reference.reference in known:
        return known[reference.reference]
    resolved = getattr(reference, "rule", None)
    if resolved is None:
        raise RuleError(f"names rule {reference.reference!r}, which is not loaded", rule_id=key)
    return rule_key(resolved)


def _expression(
    node: CorrelationConditionItem | SigmaRuleReference,
    by_reference: Mapping[str, str],
    inputs: Sequence[str],
) -> Expression:
    if isinstance(node, SigmaRuleReference):
        return ("ref", inputs.index(by_reference.get(node.reference, node.reference)))
    parts = tuple(_expression(arg, by_reference, inputs) for arg in node.args)
    if isinstance(node, CorrelationConditionNOT):
        return ("not", parts[0])
    if isinstance(node, CorrelationConditionAND):
        return ("and", parts)
    if isinstance(node, CorrelationConditionOR):
        return ("or", parts)
    raise RuleError(f"unknown correlation condition node {type(node).__name__}")


def _names(rule: SigmaRule | SigmaCorrelationRule) -> list[str]:
    return [name for name in (str(rule.id) if rule.id else None, rule.name) if name]


def _has_not(expression: Expression) -> bool:
    if expression[0] == "ref":
        return False
    if expression[0] == "not":
        return True
    return any(_has_not(part) for part in expression[1])


def evaluate_expression(expression: Expression, present: set[int]) -> bool:
    """Whether the inputs present in a window satisfy an extended condition."""
    operator = expression[0]
    if operator == "ref":
        return int(expression[1]) in present
    if operator == "not":
        return not evaluate_expression(expression[1], present)
    results = (evaluate_expression(part, present) for part in expression[1])
    return all(results) if operator == "and" else any(results)


def load_correlations(
    rules: Sequence[SigmaCorrelationRule],
    known: Mapping[str, str] | None = None,
    upper_bounds: Mapping[str, tuple[str, float]] | None = None,
) -> tuple[list[Correlation], list[RuleError]]:
    """The correlations we can run, in dependency order, and the errors of the others.

    `known` maps rule names and ids to rule ids (the matcher's rules); the correlations' own
    names are added, so one correlation may name another.
    """
    if known is not None:
        known = {**known, **{name: rule_key(r) for r in rules for name in _names(r)}}
    loaded: dict[str, Correlation] = {}
    errors: list[RuleError] = []
    for rule in rules:
        try:
            correlation = Correlation.from_sigma(rule, known)
            bound = (upper_bounds or {}).get(correlation.id)
            if bound is not None:
                lower = correlation.threshold
                threshold = Threshold(lower.op, lower.count, bound[0], bound[1])
                correlation = dataclasses.replace(correlation, threshold=threshold)
        except (RuleError, ValueError, AttributeError) as error:
            reason = error.reason if isinstance(error, RuleError) else str(error)
            errors.append(RuleError(reason, rule_id=rule_key(rule)))
            continue
        loaded[correlation.id] = correlation
    ordered: list[Correlation] = []
    visited: set[str] = set()

    def visit(correlation: Correlation) -> None:  # inputs first: a correlation feeds its parents
        if correlation.id in visited:
            return
        visited.add(correlation.id)
        for name in correlation.inputs:
            if name in loaded:
                visit(loaded[name])
        ordered.append(correlation)

    for correlation in loaded.values():
        visit(correlation)
    return ordered, errors
