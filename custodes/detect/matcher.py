"""The matcher: compiled rules grouped by logsource, evaluated on whole Arrow batches."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from custodes.detect.compile import CompiledRule, Node, Test
from custodes.detect.evaluate import FieldPlan
from custodes.detect.logsources import ColumnTests, logsource_mask
from custodes.detect.mapping import Logsource, Mapping, load_mapping
from custodes.detect.rules import RuleInfo
from custodes.detect.view import BatchView, Mask
from custodes.errors import RuleError
from custodes.events import CORE_NAMES, EVENT_SCHEMA, FIELDS_COLUMN

#: Columns alerts are made of (see hits_to_alerts).
ALERT_COLUMNS = ("@timestamp", "event.id", "host.name", "user.name")
#: Evaluation results: None = no row, ALL = every row of the group, else a row mask.
ALL = True
Result = Any  # Mask | ALL | None; Any keeps numpy's operator typing out of the way


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule that matched rows of a batch (`rows`: their indices, int64)."""

    rule: RuleInfo
    rows: pa.Array


class RuleGroup:
    """The rules of one logsource and their conditions over the matcher's shared tests."""

    def __init__(
        self,
        logsource: Logsource,
        rules: Sequence[CompiledRule],
        mapping: Mapping,
        index: dict[tuple[tuple[str, ...], Test], int],
    ) -> None:
        self.logsource = logsource
        self.rules = list(rules)

        def where(test: Test) -> tuple[tuple[str, ...], Test]:
            return (logsource.sources(test.field, mapping.default_fields), test)

        self.conditions = [number_tests(rule.condition, index, where) for rule in self.rules]
        self.costly: list[frozenset[int]] = []  # per rule, filled in by the matcher

    def costly_needed(self, results: dict[int, Mask]) -> set[int]:
        """The costly tests of the rules that may still match, given the cheap tests' results."""
        needed: set[int] = set()
        for condition, costly in zip(self.conditions, self.costly, strict=True):
            if costly and possible(condition, results, costly) is not None:
                needed |= costly
        return needed

    def match(self, results: dict[int, Mask], wanted: Mask) -> list[Hit]:
        """The rules of this group that match rows among `wanted`."""
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
    """Every compiled rule, ready to match batches of the event schema.

    Rules are grouped by logsource (a batch only meets the groups whose events it holds);
    tests are shared across groups by (field sources, test), so each is answered once.
    """

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
        index: dict[tuple[tuple[str, ...], Test], int] = {}
        self.groups: list[RuleGroup] = []
        users: dict[int, set[int]] = {}  # test -> groups asking it
        for logsource, members in by_logsource.values():
            group = RuleGroup(logsource, members, self.mapping, index)
            number = len(self.groups)
            self.groups.append(group)
            for condition in group.conditions:
                for asked in tests_of(condition):
                    users.setdefault(asked, set()).add(number)
        per_sources: dict[tuple[str, ...], list[tuple[int, Test]]] = {}
        for (sources, test), position in index.items():
            per_sources.setdefault(sources, []).append((position, test))
        self.plans: list[tuple[FieldPlan, tuple[int, ...]]] = []
        for sources, tests in per_sources.items():
            plan = FieldPlan(sources, tests)
            for position, test in tests:
                if test.kind == "fieldref":
                    group = self.groups[min(users[position])]
                    plan.references[test.value] = group.logsource.sources(
                        test.value, self.mapping.default_fields
                    )
            askers = sorted({g for position, _ in tests for g in users.get(position, ())})
            self.plans.append((plan, tuple(askers)))
        self.column_tests = ColumnTests(group.logsource.when for group in self.groups)
        costly = set().union(*(plan.costly for plan, _ in self.plans))
        for group in self.groups:
            group.costly = [frozenset(set(tests_of(c)) & costly) for c in group.conditions]

    def columns(self) -> list[str]:
        """The event columns matching and alerting read (for reading the lake selectively)."""
        wanted = set(ALERT_COLUMNS)
        for group in self.groups:
            for alternative in group.logsource.when:
                wanted.update(column for column, _ in alternative)
        for plan, _ in self.plans:
            wanted.update(plan.sources)
            for sources in plan.references.values():
                wanted.update(sources)
        wanted = {name if name in CORE_NAMES else FIELDS_COLUMN for name in wanted}
        return [name for name in EVENT_SCHEMA.names if name in wanted]

    def match(self, batch: pa.RecordBatch) -> list[Hit]:
        """Every (rule, rows) match in the batch."""
        if batch.num_rows == 0:
            return []
        view = BatchView(batch)
        answers = self.column_tests.answer(view)
        masks = [logsource_mask(group.logsource.when, view.rows, answers) for group in self.groups]
        present = [bool(mask.any()) for mask in masks]
        results: dict[int, Mask] = {}
        wanted_by_plan: list[Mask | None] = []
        for plan, askers in self.plans:
            live = [masks[g] for g in askers if present[g]]
            wanted = None
            if live:
                wanted = live[0] if len(live) == 1 else np.logical_or.reduce(live)
                plan.evaluate(view, wanted, results)
            wanted_by_plan.append(wanted)
        needed: set[int] = set()
        for group, is_present in zip(self.groups, present, strict=True):
            if is_present:
                needed |= group.costly_needed(results)
        if needed:
            for (plan, _), wanted in zip(self.plans, wanted_by_plan, strict=True):
                asked = plan.costly & needed
                if asked and wanted is not None:
                    plan.evaluate(view, wanted, results, asked)
        hits: list[Hit] = []
        for group, mask, is_present in zip(self.groups, masks, present, strict=True):
            if is_present:
                hits.extend(group.match(results, mask))
        return hits


def number_tests(
    node: Node,
    index: dict[tuple[tuple[str, ...], Test], int],
    where: Callable[[Test], tuple[tuple[str, ...], Test]],
) -> Node:
    """The same condition with each Test replaced by its number among the matcher's tests."""
    kind = node[0]
    if kind == "test":
        key = where(node[1])
        return ("test", index.setdefault(key, len(index)))
    if kind == "not":
        return ("not", number_tests(node[1], index, where))
    if kind in ("and", "or"):
        return (kind, tuple(number_tests(child, index, where) for child in node[1]))
    return node


def tests_of(node: Node) -> Iterator[int]:
    """The test numbers a numbered condition uses."""
    if node[0] == "test":
        yield node[1]
    elif node[0] == "not":
        yield from tests_of(node[1])
    elif node[0] in ("and", "or"):
        for child in node[1]:
            yield from tests_of(child)


def possible(
    node: Node, results: dict[int, Mask], unknown: frozenset[int], positive: bool = True
) -> Result:
    """Rows a condition might match while the `unknown` tests are unanswered (None: none).

    An unknown test counts as matching everywhere where that helps the rule (under an even
    number of `not`s) and nowhere where that helps it (under an odd number).
    """
    kind = node[0]
    if kind == "test":
        if node[1] in unknown:
            return ALL if positive else None
        return results.get(node[1])
    if kind == "and":
        acc: Result = ALL
        for child in node[1]:
            value = possible(child, results, unknown, positive)
            if value is None:
                return None
            if value is not ALL:
                acc = value if acc is ALL else acc & value
        return acc
    if kind == "or":
        any_acc: Result = None
        for child in node[1]:
            value = possible(child, results, unknown, positive)
            if value is ALL:
                return ALL
            if value is not None:
                any_acc = value if any_acc is None else any_acc | value
        return any_acc
    if kind == "not":
        value = possible(node[1], results, unknown, not positive)
        return ALL if value is None else None if value is ALL else ~value
    raise ValueError(f"unknown condition node {kind!r}")


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
