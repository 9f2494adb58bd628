"""The evidence ledger: every stored event a leaf of a signed Merkle tree (RFC 9162).

`Ledger` records lake files as they are written, `verify_store` finds and locates tampering,
`export_evidence` writes packages that `verify_package` checks with no server.

Names are imported on first use, so `python -m custodes.ledger.verify_package` loads only the
standard library and `cryptography`, never pyarrow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from custodes.ledger.encoding import encode_events, leaf_hashes
    from custodes.ledger.export import ExportSummary, export_evidence
    from custodes.ledger.journal import FileEntry, PurgeEntry, TreeHead
    from custodes.ledger.keys import KeyRing
    from custodes.ledger.ledger import Ledger
    from custodes.ledger.locate import Fault
    from custodes.ledger.merkle import Frontier, TreeLevels, root_from_inclusion, verify_consistency
    from custodes.ledger.verify import VerifyReport, verify_store

_HOMES = {
    "encode_events": "encoding",
    "leaf_hashes": "encoding",
    "ExportSummary": "export",
    "export_evidence": "export",
    "FileEntry": "journal",
    "PurgeEntry": "journal",
    "TreeHead": "journal",
    "KeyRing": "keys",
    "Ledger": "ledger",
    "Fault": "locate",
    "Frontier": "merkle",
    "TreeLevels": "merkle",
    "root_from_inclusion": "merkle",
    "verify_consistency": "merkle",
    "VerifyReport": "verify",
    "verify_store": "verify",
}

__all__ = [
    "ExportSummary",
    "Fault",
    "FileEntry",
    "Frontier",
    "KeyRing",
    "Ledger",
    "PurgeEntry",
    "TreeHead",
    "TreeLevels",
    "VerifyReport",
    "encode_events",
    "export_evidence",
    "leaf_hashes",
    "root_from_inclusion",
    "verify_consistency",
    "verify_store",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"custodes.ledger.{home}"), name)
