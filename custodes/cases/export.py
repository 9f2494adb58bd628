"""`custodes case export CASE --out package.zip`: a case's evidence package.

An evidence package of the ledger (`manifest.json` + `events.jsonl`: the case's events with their
inclusion proofs against a signed tree head) plus the case's documents:

    case/case.json            the case record: fields, items, shares and hand-overs, history
    case/timelines.json       the timelines kept with the case (seeds, windows, steps)
    case/attachments.json     name, size and SHA-256 of each attachment
    case/access-ledger.json   the access-ledger entries naming the case, with their chain hashes

The manifest lists each document's SHA-256 under `documents`, and `documents_signature` signs
them together with the tree head's root, with the key that signed the head
(`verify_package.documents_message`), so the standalone verifier checks the documents too.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custodes.cases.case import get_case, record
from custodes.cases.evidence import case_event_ids
from custodes.cases.record import case_to_dict, list_items
from custodes.errors import LedgerError, NotFound
from custodes.ledger import KeyRing, export_evidence
from custodes.ledger.verify_package import (
    EVENTS,
    MANIFEST,
    canonical_json,
    documents_message,
)
from custodes.oversight import Door, EventQuery, entry_to_dict, list_entries
from custodes.oversight.access import MAX_ROWS, fetch
from custodes.store.control import Control
from custodes.store.users import User

ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class CaseExport:
    """What went into a case package."""

    path: Path
    events: int
    documents: int
    key_id: str


def access_entries(control: Control, case_id: str) -> list[dict[str, Any]]:
    """The case's access-ledger entries, oldest first, with their chain hashes."""
    rows = list_entries(control, case_id=case_id, limit=100_000)
    entries = []
    for row in reversed(rows):
        entry = entry_to_dict(row)
        entry["prev_hash"] = row.prev_hash
        entries.append(entry)
    return entries


def case_documents(control: Control, case_id: str, record_dict: dict[str, Any]) -> dict[str, Any]:
    """The documents of a case package, by member name."""
    attachments = [
        {"name": item.text, "sha256": item.ref, "size": item.details.get("size")}
        for item in list_items(control, case_id, "attachment")
    ]
    timelines = [
        {"ref": item.ref, "added_at": item.added_at.isoformat(), **item.details}
        for item in list_items(control, case_id, "timeline")
    ]
    return {
        "case/case.json": record_dict,
        "case/timelines.json": timelines,
        "case/attachments.json": attachments,
        "case/access-ledger.json": access_entries(control, case_id),
    }


def export_case(
    control: Control,
    data_dir: Path,
    door: Door,
    actor: User,
    case_id: str,
    out: Path,
    *,
    purpose: str = "investigation",
) -> CaseExport:
    """Write the case's evidence package to `out` (allowed by the door, recorded)."""
    case = get_case(control, actor, case_id)
    event_ids = case_event_ids(control, case_id)[:MAX_ROWS]
    if not event_ids:
        raise NotFound("event of case", case_id)
    query = EventQuery(event_ids=tuple(event_ids), limit=len(event_ids), kind="export")
    door.authorise_export(
        actor,
        purpose,
        case_id,
        fetch(data_dir, query),
        query={"case": case_id, "events": len(event_ids)},
    )
    record(control, case_id, actor, "exported", {"events": len(event_ids), "out": out.name})
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch) / "events.zip"
        summary = export_evidence(data_dir, base, event_ids=event_ids)
        with zipfile.ZipFile(base) as package:
            manifest = package.read(MANIFEST)
            events = package.read(EVENTS)
    documents = {
        name: (canonical_json(value) + "\n").encode()
        for name, value in case_documents(control, case_id, case_to_dict(control, case)).items()
    }
    signed = sign_documents(data_dir, manifest, documents)
    write_package(out, signed, events, documents)
    return CaseExport(out, summary.events, len(documents), summary.key_id)


def sign_documents(data_dir: Path, manifest_bytes: bytes, documents: dict[str, bytes]) -> bytes:
    """The manifest with the documents' hashes and their signature by the head's key."""
    import orjson

    manifest = orjson.loads(manifest_bytes)
    head = manifest["tree_head"]
    key_id, key = KeyRing.for_data_dir(data_dir).signing_key()
    if key_id != head["key_id"]:
        raise LedgerError("the signing key changed since the last tree head; retry in a minute")
    hashes = {name: hashlib.sha256(data).hexdigest() for name, data in documents.items()}
    manifest["documents"] = hashes
    signature = key.sign(documents_message(head, hashes))
    manifest["documents_signature"] = base64.b64encode(signature).decode()
    return canonical_json(manifest).encode()


def write_package(out: Path, manifest: bytes, events: bytes, documents: dict[str, bytes]) -> None:
    """The zip, members in a fixed order with fixed times."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as package:
        members = [(MANIFEST, manifest), (EVENTS, events), *sorted(documents.items())]
        for name, data in members:
            package.writestr(
                zipfile.ZipInfo(name, ZIP_TIME), data, compress_type=zipfile.ZIP_DEFLATED
            )
    out.write_bytes(buffer.getvalue())
