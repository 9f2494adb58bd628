"""The matcher: compiled rules grouped by logsource, evaluated on whole Arrow batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from custodes.detect.compile import CompiledRule, Node, Test
from custodes.detect.evaluate import BatchView, FieldPlan, Mask
from custodes.detect.mapping import Alternative, Logsource, Mapping, load_mapping
from custodes.detect.rules import RuleInfo
from custodes.errors import RuleError

#: Evaluation results: None = no row, ALL = every row of the group, else a row mask.
ALL = True
Result = Any  # Mask | ALL | None; Any keeps numpy's operator typing out of the way


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule that matched rows of a batch (`rows`: their indices, int64)."""

    rule: RuleInfo
    rows: pa.Array


class RuleGroup:
    """The rules of one logsource: their tests, gathered per field, and their conditions."""

    def __init__(
        self, logsource: Logsource, rules: Sequence[CompiledRule], mapping: Mapping
    ) -> None:
        self.logsource = logsource
        self.rules = list(rules)
        index: dict[Test, int] = {}
        self.conditions = [number_tests(rule.condition, index) for rule in self.rules]
        per_field: dict[str, list[tuple[int, Test]]] = {}
        for test, position in index.items():
            per_field.setdefault(test.field, []).append((position, test))
        self.fields = []
        for name, tests in per_field.items():
            plan = FieldPlan(logsource.sources(name, mapping.default_fields), tests)
            plan.references = {
                t.value: logsource.sources(t.value, mapping.default_fields)
                for _, t in tests
                if t.kind == "fieldref"
            }
            self.fields.append(plan)

    def match(self, view: BatchView, wanted: Mask) -> list[Hit]:
        """The rules of this group that match rows among `wanted`."""
        results: dict[int, Mask] = {}
        for plan in self.fields:
            plan.evaluate(view, wanted, results)
        hits = []
        for rule, condition in zip(self.rules, self.conditions, strict=True):
            result = evaluate(condition, results)
            if result is None:
                continue
            mask = wanted if result is ALL else result & wanted
            rows = np.flatnonzero(mask)
            if len(rows):
                hits.append(Hit(rule.info, pa.array(rows, pa.int64())))
        return hits


class Matcher:
    """Every compiled rule, ready to match batches of the event schema."""

    def __init__(
        self,
        rules: Sequence[CompiledRule],
        refused: Sequence[RuleError] = (),
        mapping: Mapping | None = None,
    ) -> None:
        self.mapping = mapping or load_mapping()
        self.rules = list(rules)
        self.refused = list(refused)
        by_logsource: dict[str, tuple[Logsource, list[CompiledRule]]] = {}
        for rule in self.rules:
            logsource = self.mapping.logsource_for(rule.product, rule.category, rule.service)
            by_logsource.setdefault(logsource.name, (logsource, []))[1].append(rule)
        self.groups = [RuleGroup(ls, group, self.mapping) for ls, group in by_logsource.values()]

    def match(self, batch: pa.RecordBatch) -> list[Hit]:
        """Every (rule, rows) match in the batch."""
        if batch.num_rows == 0:
            return []
        view = BatchView(batch)
        tests: dict[tuple[str, tuple[str, ...]], Mask] = {}
        hits: list[Hit] = []
        for group in self.groups:
            wanted = logsource_mask(group.logsource.when, view, tests)
            if wanted.any():
                hits.extend(group.match(view, wanted))
        return hits


def logsource_mask(
    when: tuple[Alternative, ...], view: BatchView, memo: dict[tuple[str, tuple[str, ...]], Mask]
) -> Mask:
    """Rows that satisfy any alternative of a logsource condition."""
    every = np.ones(view.rows, dtype=bool)
    mask = np.zeros(view.rows, dtype=bool)
    for alternative in when:
        rows = every
        for column, accepted in alternative:
            key = (column, accepted)
            if key not in memo:
                memo[key] = column_test(view, column, accepted, every)
            rows = rows & memo[key]
        mask |= rows
    return mask


def column_test(view: BatchView, column: str, accepted: tuple[str, ...], every: Mask) -> Mask:
    """Rows whose column equals (case-insensitively) or starts with one accepted value."""
    mask = np.zeros(view.rows, dtype=bool)
    prefixes = tuple(value[:-1] for value in accepted if value.endswith("*"))
    exact = {value for value in accepted if not value.endswith("*")}
    rows, inverse, texts = view.lowered(column)
    if "*" in accepted:
        mask[rows] = True
        return mask
    flags = np.array([text in exact or text.startswith(prefixes) for text in texts], dtype=bool)
    mask[rows[flags[inverse]]] = True
    return mask


def number_tests(node: Node, index: dict[Test, int]) -> Node:
    """The same condition with each Test replaced by its position among the group's tests."""
    kind = node[0]
    if kind == "test":
        test = node[1]
        assert isinstance(test, Test)
        return ("test", index.setdefault(test, len(index)))
    if kind == "not":
        return ("not", number_tests(node[1], index))
    if kind in ("and", "or"):
        return (kind, tuple(number_tests(child, index) for child in node[1]))
    return node


def evaluate(node: Node, results: dict[int, Mask]) -> Result:
    """A condition over the test results; None and ALL short-circuit whole subtrees."""
    kind = node[0]
    if kind == "test":
        return results.get(node[1])
    if kind == "and":
        acc: Result = ALL
        for child in node[1]:
            value = evaluate(child, results)
            if value is None:
                return None
            if value is not ALL:
                acc = value if acc is ALL else acc & value
        return acc
    if kind == "or":
        any_acc: Result = None
        for child in node[1]:
            value = evaluate(child, results)
            if value is ALL:
                return ALL
            if value is not None:
                any_acc = value if any_acc is None else any_acc | value
        return any_acc
    if kind == "not":
        value = evaluate(node[1], results)
        return ALL if value is None else None if value is ALL else ~value
    raise ValueError(f"unknown condition node {kind!r}")
