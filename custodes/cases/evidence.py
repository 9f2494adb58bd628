"""What a case keeps as evidence: attachments (hashed on upload), events and timelines."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from custodes.cases.case import add_item, get_case
from custodes.cases.record import list_items
from custodes.cases.tables import CaseItemRow
from custodes.cases.units import CaseError
from custodes.store.control import Control
from custodes.store.users import User

MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def attachments_dir(data_dir: Path, case_id: str) -> Path:
    """Where a case's attachments are kept, by their SHA-256."""
    return data_dir / "cases" / SAFE_NAME.sub("_", case_id) / "attachments"


def add_attachment(
    control: Control,
    data_dir: Path,
    actor: User,
    case_id: str,
    name: str,
    data: bytes,
    *,
    now: datetime | None = None,
) -> CaseItemRow:
    """Keep a file with a case: stored under its SHA-256, the hash recorded in the history."""
    get_case(control, actor, case_id)
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise CaseError(f"an attachment is at most {MAX_ATTACHMENT_BYTES} bytes")
    digest = hashlib.sha256(data).hexdigest()
    folder = attachments_dir(data_dir, case_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / digest
    if not path.exists():
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)
    details = {"size": len(data), "sha256": digest}
    return add_item(
        control,
        actor,
        case_id,
        "attachment",
        ref=digest,
        text=Path(name).name,
        details=details,
        now=now,
    )


def add_events(
    control: Control,
    actor: User,
    case_id: str,
    event_ids: Sequence[str],
    *,
    now: datetime | None = None,
) -> list[CaseItemRow]:
    """Add events to a case by id (those it already holds are skipped)."""
    held = {item.ref for item in list_items(control, case_id, "event")}
    added = []
    for event_id in dict.fromkeys(event_ids):
        if event_id not in held:
            added.append(add_item(control, actor, case_id, "event", ref=event_id, now=now))
    return added


def add_timeline(
    control: Control,
    actor: User,
    case_id: str,
    timeline: dict[str, Any],
    *,
    now: datetime | None = None,
) -> CaseItemRow:
    """Keep a timeline's seed, window and steps (labels and event ids) with a case."""
    seed = timeline["seed"]
    details = {
        "seed": seed,
        "since": timeline["since"],
        "until": timeline["until"],
        "steps": timeline["steps"],
    }
    text = f"timeline of {seed['kind']} {seed['value']}"
    return add_item(
        control,
        actor,
        case_id,
        "timeline",
        ref=f"{seed['kind']}:{seed['value']}",
        text=text,
        details=details,
        now=now,
    )


def case_event_ids(control: Control, case_id: str) -> list[str]:
    """Every event a case points at: its events, its alerts' events, its timelines' events."""
    found: dict[str, None] = {}
    for item in list_items(control, case_id):
        if item.kind == "event" and item.ref:
            found[item.ref] = None
        elif item.kind == "alert":
            found.update(dict.fromkeys(item.details.get("event_ids", [])))
        elif item.kind == "timeline":
            for step in item.details.get("steps", []):
                found.update(dict.fromkeys(step.get("event_ids", [])))
    return list(found)
