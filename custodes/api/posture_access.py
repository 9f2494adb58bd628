"""Posture findings through the one door: people pseudonymised unless the role acts on them.

A finding names a person: the account of a leaver still enabled, a privileged account, the owner
of a device. Who sees those names in clear:

- `admin`: disables the account, removes the membership, retires the device (reads recorded
  with the purpose `account-administration`, and every person shown in clear);
- `oversight`: audits posture (the policy's `oversight-review`);
- everyone else (analysts, investigators) sees the door's pseudonyms, as in alerts and search,
  and names only for the people they hold a grant for in the case they give (`?case=`).

Every read appends an access-ledger entry (action `posture`), in clear or not.
"""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa

from custodes.api.access import chosen_purpose, door
from custodes.api.deps import AppState
from custodes.oversight import Pseudonymiser, active_subjects
from custodes.store.users import Role, User

ADMIN_PURPOSE = "account-administration"
OVERSIGHT_PURPOSE = "oversight-review"
#: Roles that see the people of posture findings in clear, and the purpose they read for.
OWN_PURPOSES = {Role.ADMIN: ADMIN_PURPOSE, Role.OVERSIGHT: OVERSIGHT_PURPOSE}
NAMED_ROLES = tuple(OWN_PURPOSES)
FIELDS = pa.map_(pa.string(), pa.string())
#: Details that name people besides the finding's own account (who made a group change).
PERSON_DETAILS = ("changed_by", "owner_employee_id")


def read_findings(
    state: AppState,
    actor: User,
    findings: list[dict[str, Any]],
    *,
    purpose: str | None = None,
    case_id: str | None = None,
    query: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Finding dicts as `actor` may see them (masked unless named or granted); recorded."""
    gate = door(state)
    recorded = {"kind": "posture", **(query or {})}
    # analysts and investigators: monitoring, or investigation in a case
    chosen = purpose or OWN_PURPOSES.get(actor.role) or chosen_purpose(None, case_id)
    if actor.role is not Role.ADMIN:  # no monitoring purpose in the policy: their own, recorded
        gate.authorise(actor, chosen, case_id)
    _policy, pseudonyms = gate.state()
    if actor.role in NAMED_ROLES:
        shown, revealed = findings, people_in(pseudonyms, findings)
    else:
        allowed = active_subjects(state.control, actor.name, case_id)
        shown, revealed = mask_findings(pseudonyms, findings, allowed)
    gate.record(actor, "posture", chosen, case_id, recorded, len(shown), revealed)
    return shown


def people_in(pseudonyms: Pseudonymiser, findings: list[dict[str, Any]]) -> frozenset[str]:
    """The pseudonyms of everyone the findings name by account or employee id."""
    values = {f[key] for f in findings for key in ("account", "employee_id") if f.get(key)}
    return frozenset(
        pseudonyms.pseudonym(value) for value in values if pseudonyms.is_person(str(value))
    )


def as_text(value: Any) -> str:
    """A detail value as text to mask: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def from_text(text: str | None, original: Any) -> Any:
    """A masked detail value back in its original shape."""
    if text is None or isinstance(original, str):
        return text
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def others_named(findings: list[dict[str, Any]]) -> set[str]:
    """People the details name (PERSON_DETAILS), as plain strings."""
    found: set[str] = set()
    for finding in findings:
        for key in PERSON_DETAILS:
            value = finding.get("details", {}).get(key)
            values = value if isinstance(value, list) else [value]
            found.update(str(item) for item in values if item)
    return found


def mask_findings(
    pseudonyms: Pseudonymiser, findings: list[dict[str, Any]], allowed: frozenset[str]
) -> tuple[list[dict[str, Any]], frozenset[str]]:
    """The findings with accounts, employee ids, subjects and details masked in one table
    (`user.name`, `user.id`, and the rest as source fields); the pseudonyms left in clear."""
    if not findings:
        return [], frozenset()
    fields = [
        [("subject", finding["subject"])]
        + [(key, as_text(value)) for key, value in finding.get("details", {}).items()]
        for finding in findings
    ]
    others = sorted(others_named(findings))  # extra rows: their names are looked for in text
    table = pa.table(
        {
            "user.name": pa.array([f.get("account") for f in findings] + others, pa.string()),
            "user.id": pa.array([f.get("employee_id") for f in findings] + [None] * len(others)),
            "fields": pa.array(fields + [[]] * len(others), FIELDS),
        }
    )
    masked = pseudonyms.mask(table, allowed)
    accounts = masked.table.column("user.name").to_pylist()
    employees = masked.table.column("user.id").to_pylist()
    shown = []
    items_of = masked.table.column("fields").to_pylist()
    for finding, account, employee, items in zip(
        findings, accounts, employees, items_of, strict=False
    ):
        texts = dict(items)
        subject = texts.pop("subject")
        if finding["subject"] == finding.get("account"):  # short accounts are not found in text
            subject = account
        details = {key: from_text(texts[key], value) for key, value in finding["details"].items()}
        shown.append(
            {
                **finding,
                "account": account,
                "employee_id": employee,
                "subject": subject,
                "details": details,
            }
        )
    return shown, masked.revealed


def read_report(
    state: AppState,
    actor: User,
    report: dict[str, Any],
    *,
    purpose: str | None = None,
    case_id: str | None = None,
) -> dict[str, Any]:
    """The posture report (`custodes.posture.report.build_report`) with its items read through
    `read_findings` in one pass (one access entry)."""
    items = [item for entry in report["classes"] for item in entry["items"]]
    shown = iter(
        read_findings(state, actor, items, purpose=purpose, case_id=case_id, query={"report": True})
    )
    classes = [
        {**entry, "items": [next(shown) for _ in entry["items"]]} for entry in report["classes"]
    ]
    return {**report, "classes": classes, "people_in_clear": actor.role in NAMED_ROLES}
