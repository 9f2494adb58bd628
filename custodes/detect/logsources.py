"""Which rows of a batch each logsource group may match: every column test in one pass.

A logsource condition (fields.yaml `when`) is a few column tests such as
`winlog.channel = Microsoft-Windows-Sysmon/Operational` and `event.code in (1)`. The matcher's
106 groups ask about 130 such tests; they are indexed by column, so each column's distinct
values are looked up once per batch rather than once per test.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from custodes.detect.mapping import Alternative
from custodes.detect.view import BatchView, Mask

#: A column test: (column, accepted values) as fields.yaml gives them (lowercase).
ColumnTest = tuple[str, tuple[str, ...]]


class ColumnTests:
    """Every column test of the logsource conditions, indexed by column and accepted value."""

    def __init__(self, conditions: Iterable[tuple[Alternative, ...]]) -> None:
        self.exact: dict[str, dict[str, list[ColumnTest]]] = {}
        self.prefixes: dict[str, list[tuple[str, ColumnTest]]] = {}
        self.present: dict[str, list[ColumnTest]] = {}
        seen: set[ColumnTest] = set()
        for when in conditions:
            for alternative in when:
                for test in alternative:
                    if test in seen:
                        continue
                    seen.add(test)
                    column, accepted = test
                    for value in accepted:
                        if value == "*":
                            self.present.setdefault(column, []).append(test)
                        elif value.endswith("*"):
                            self.prefixes.setdefault(column, []).append((value[:-1], test))
                        else:
                            self.exact.setdefault(column, {}).setdefault(value, []).append(test)
        self.columns = sorted({test[0] for test in seen})

    def answer(self, view: BatchView) -> dict[ColumnTest, Mask]:
        """The rows passing each column test that some row passes (absent: no row)."""
        answers: dict[ColumnTest, Mask] = {}
        for column in self.columns:
            rows, inverse, texts = view.lowered(column)
            if len(rows) == 0:
                continue
            if column in self.present:
                mask = np.zeros(view.rows, dtype=bool)
                mask[rows] = True
                for test in self.present[column]:
                    answers[test] = mask
            exact = self.exact.get(column, {})
            prefixes = self.prefixes.get(column, [])
            found: dict[ColumnTest, list[int]] = {}
            for position, text in enumerate(texts):
                for test in exact.get(text, ()):
                    found.setdefault(test, []).append(position)
                for prefix, test in prefixes:
                    if text.startswith(prefix):
                        found.setdefault(test, []).append(position)
            for test, positions in found.items():
                flags = np.zeros(len(texts), dtype=bool)
                flags[positions] = True
                mask = answers.get(test, np.zeros(view.rows, dtype=bool)).copy()
                mask[rows[flags[inverse]]] = True
                answers[test] = mask
        return answers


def logsource_mask(
    when: tuple[Alternative, ...], rows: int, answers: dict[ColumnTest, Mask]
) -> Mask:
    """Rows that satisfy any alternative of a logsource condition."""
    mask = np.zeros(rows, dtype=bool)
    for alternative in when:
        passing: Mask | None = None
        for test in alternative:
            found = answers.get(test)
            if found is None:
                break
            passing = found if passing is None else passing & found
        else:
            if passing is None:  # an empty alternative: every event
                return np.ones(rows, dtype=bool)
            mask |= passing
    return mask
