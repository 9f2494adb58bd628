"""Cases: visibility by unit, sharing and hand-over (recorded, approved where the policy says)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from custodes.cases import (
    AccessApproval,
    CaseApprovals,
    CaseError,
    add_note,
    add_unit,
    case_to_dict,
    cases_by_type,
    decide_access,
    get_case,
    list_cases,
    open_case,
    pending_access,
    request_access,
)
from custodes.errors import NotFound, PermissionDenied
from custodes.oversight import list_entries
from custodes.store import open_control
from custodes.store.control import Control
from custodes.store.users import Role, User

ANA = User(name="ana", role=Role.ANALYST, kind="cli")
BEN = User(name="ben", role=Role.ANALYST, kind="cli")
IVY = User(name="ivy", role=Role.INVESTIGATOR, kind="cli")
OLGA = User(name="olga", role=Role.OVERSIGHT, kind="cli")
DEFAULTS = CaseApprovals()


@pytest.fixture
def control(data_dir: Path) -> Iterator[Control]:
    with open_control(data_dir) as opened:
        add_unit(opened, "soc", "security", ["ana"])
        add_unit(opened, "cert", "security", ["ben"])
        add_unit(opened, "internal-affairs", "investigative", ["ivy"])
        yield opened


def test_a_case_is_seen_by_its_unit_and_oversight_only(control: Control) -> None:
    case = open_case(control, ANA, title="Spraying", unit="soc")
    assert [c.id for c in list_cases(control, ANA)] == [case.id]
    assert list_cases(control, BEN) == [] and list_cases(control, IVY) == []
    with pytest.raises(NotFound):
        get_case(control, BEN, case.id)
    with pytest.raises(NotFound):
        add_note(control, BEN, case.id, "not mine")
    assert get_case(control, OLGA, case.id).id == case.id


def test_only_members_open_cases_for_a_unit(control: Control) -> None:
    with pytest.raises(PermissionDenied):
        open_case(control, BEN, title="x", unit="soc")
    with pytest.raises(CaseError):
        open_case(control, IVY, title="x", unit="internal-affairs", type="investigation")


def test_sharing_shows_the_case_to_the_other_unit_and_is_recorded(
    control: Control, data_dir: Path
) -> None:
    case = open_case(control, ANA, title="Spraying", unit="soc")
    row = request_access(control, data_dir, ANA, case.id, "cert", "share", DEFAULTS, reason="help")
    assert row.status == "active"
    assert get_case(control, BEN, case.id).id == case.id
    entries = list_entries(control, case_id=case.id, action="case-share")
    assert [(e.actor, e.details["unit"]) for e in entries] == [("ana", "cert")]
    actions = [entry["action"] for entry in case_to_dict(control, case)["history"]]
    assert actions == ["created", "share"]


def test_a_handover_waits_for_oversight_approval_by_default(
    control: Control, data_dir: Path
) -> None:
    case = open_case(control, ANA, title="Insider", unit="soc", legal_basis="IG Act s.6")
    row = request_access(control, data_dir, ANA, case.id, "internal-affairs", "handover", DEFAULTS)
    assert row.status == "pending"
    assert [r.id for r in pending_access(control)] == [row.id]
    with pytest.raises(NotFound):
        get_case(control, IVY, case.id)
    with pytest.raises(PermissionDenied):
        decide_access(control, data_dir, IVY, row.id, DEFAULTS, approve=True)
    decided = decide_access(control, data_dir, OLGA, row.id, DEFAULTS, approve=True, reason="ok")
    assert pending_access(control) == []
    assert decided.status == "active"
    moved = get_case(control, IVY, case.id)
    assert (moved.unit, moved.type, moved.legal_basis) == (
        "internal-affairs",
        "investigation",
        "IG Act s.6",
    )
    actions = [e.action for e in reversed(list_entries(control, case_id=case.id))]
    assert actions == ["case-handover", "case-access-approve"]


def test_a_handover_is_immediate_when_the_policy_needs_no_approval(
    control: Control, data_dir: Path
) -> None:
    lenient = CaseApprovals(handover=AccessApproval(needs_approval=False))
    case = open_case(control, ANA, title="Insider", unit="soc", legal_basis="IG Act s.6")
    row = request_access(control, data_dir, ANA, case.id, "internal-affairs", "handover", lenient)
    assert row.status == "active"
    assert get_case(control, IVY, case.id).unit == "internal-affairs"


def test_a_handover_needs_an_investigative_unit_and_a_legal_basis(
    control: Control, data_dir: Path
) -> None:
    case = open_case(control, ANA, title="Spraying", unit="soc")
    with pytest.raises(CaseError, match="investigative unit"):
        request_access(control, data_dir, ANA, case.id, "cert", "handover", DEFAULTS)
    with pytest.raises(CaseError, match="legal basis"):
        request_access(control, data_dir, ANA, case.id, "internal-affairs", "handover", DEFAULTS)


def test_the_requester_cannot_approve_their_own_share(control: Control, data_dir: Path) -> None:
    strict = CaseApprovals(share=AccessApproval(needs_approval=True, approver_roles=("analyst",)))
    case = open_case(control, ANA, title="Spraying", unit="soc")
    row = request_access(control, data_dir, ANA, case.id, "cert", "share", strict)
    with pytest.raises(PermissionDenied):
        decide_access(control, data_dir, ANA, row.id, strict, approve=True)
    refused = decide_access(control, data_dir, BEN, row.id, strict, approve=False)
    assert refused.status == "refused"
    with pytest.raises(NotFound):
        get_case(control, BEN, case.id)


def test_cases_are_counted_by_type_for_the_transparency_report(control: Control) -> None:
    open_case(control, ANA, title="a", unit="soc")
    open_case(control, ANA, title="b", unit="soc", type="review")
    open_case(
        control, IVY, title="c", unit="internal-affairs", type="investigation", legal_basis="x"
    )
    now = datetime.now(UTC)
    counted = cases_by_type(control, now - timedelta(hours=1), now + timedelta(hours=1))
    assert counted == {"incident": 1, "review": 1, "investigation": 1}
    assert cases_by_type(control, now - timedelta(days=2), now - timedelta(days=1)) == {}
