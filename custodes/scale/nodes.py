"""Several ingest nodes on one lake: each node verifies its own ledger; this combines them.

A node is a data directory of its own (WAL, ledger, keys, `serve.json`) whose `lake/` is the
shared lake (a symbolic link or a mount), and `CUSTODES_NODE` names its segments. Each node's
ledger then covers the files that node wrote; a file another node recorded looks unknown to it.
The combined check accepts a file as long as some node recorded it, and keeps every other fault.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from custodes.errors import LedgerError
from custodes.ledger import Fault, VerifyReport, verify_store
from custodes.store.lake import LAKE_DIR

UNKNOWN_FILE = "unknown file"  # custodes.ledger.locate's kind for a file no ledger recorded


@dataclass
class NodesReport:
    """Each node's report and the faults left once the nodes' ledgers are taken together."""

    nodes: dict[str, VerifyReport]
    faults: list[tuple[str, Fault]] = field(default_factory=list)  # (node data dir, fault)

    @property
    def is_intact(self) -> bool:
        """True when no node found anything wrong and every lake file is in some ledger."""
        return not self.faults

    @property
    def events(self) -> int:
        """Events recorded across every node's ledger."""
        return sum(report.tree_size for report in self.nodes.values())

    def to_dict(self) -> dict[str, Any]:
        """The JSON report: each node's signed head and the combined faults."""
        return {
            "intact": self.is_intact,
            "events": self.events,
            "nodes": {
                name: {
                    "tree_size": report.tree_size,
                    "signed_tree_size": report.signed_size,
                    "heads": report.heads,
                    "files_checked": report.files_checked,
                }
                for name, report in self.nodes.items()
            },
            "faults": [{"node": node, **fault.to_dict()} for node, fault in self.faults],
        }


def shared_lake(data_dirs: Sequence[Path]) -> Path:
    """The one lake every node writes into; LedgerError when they do not share one."""
    lakes = {(Path(d) / LAKE_DIR).resolve() for d in data_dirs}
    if len(lakes) != 1:
        names = ", ".join(sorted(str(lake) for lake in lakes))
        raise LedgerError(f"the nodes do not share one lake: {names}")
    return lakes.pop()


def verify_nodes(
    data_dirs: Sequence[Path], *, verify: Callable[[Path], VerifyReport] = verify_store
) -> NodesReport:
    """Verify each node's ledger against the shared lake and combine the results."""
    if not data_dirs:
        raise LedgerError("name at least one node's data directory")
    shared_lake(data_dirs)
    reports = {str(d): verify(Path(d)) for d in data_dirs}
    unknown_to = {
        name: {f.file for f in report.faults if f.kind == UNKNOWN_FILE}
        for name, report in reports.items()
    }
    unrecorded = set.intersection(*unknown_to.values())  # no node's ledger has it
    combined = NodesReport(reports)
    for name, report in reports.items():
        for fault in report.faults:
            if fault.kind != UNKNOWN_FILE:
                combined.faults.append((name, fault))
            elif fault.file in unrecorded:  # reported once, by the first node
                unrecorded.discard(fault.file)
                combined.faults.append((name, fault))
    return combined
