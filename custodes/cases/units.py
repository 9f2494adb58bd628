"""Units and membership, and who may see a case: its owner, the members of its unit and of the
units it is shared with or handed to (once active), and oversight."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from custodes.cases.tables import CaseAccessRow, CaseRow, UnitMemberRow, UnitRow
from custodes.errors import CustodesError, NotFound
from custodes.store.control import Control
from custodes.store.users import User

UNIT_KINDS = ("security", "investigative", "oversight", "other")
#: Roles that see every case (to review it), without being members.
REVIEW_ROLES = frozenset({"oversight"})


class CaseError(CustodesError):
    """A case request the rules do not allow (status 400)."""

    status = 400


def add_unit(
    control: Control,
    name: str,
    kind: str = "security",
    members: list[str] | tuple[str, ...] = (),
    *,
    now: datetime | None = None,
) -> UnitRow:
    """Create a unit (or add members to an existing one of the same kind)."""
    if kind not in UNIT_KINDS:
        raise CaseError(f"unknown unit kind {kind!r} (one of {', '.join(UNIT_KINDS)})")
    if not name.strip():
        raise CaseError("a unit needs a name")
    with control.session() as session:
        unit = session.get(UnitRow, name)
        if unit is None:
            unit = UnitRow(name=name, kind=kind, created_at=now or datetime.now(UTC))
            session.add(unit)
        elif unit.kind != kind:
            raise CaseError(f"unit {name!r} exists as {unit.kind}, not {kind}")
        for member in members:
            if session.get(UnitMemberRow, (name, member)) is None:
                session.add(UnitMemberRow(unit=name, member=member))
        session.flush()
        session.expunge(unit)
        return unit


def get_unit(control: Control, name: str) -> UnitRow:
    """One unit; NotFound when there is none of that name."""
    with control.session() as session:
        unit = session.get(UnitRow, name)
        if unit is None:
            raise NotFound("unit", name)
        session.expunge(unit)
        return unit


def list_units(control: Control) -> list[tuple[UnitRow, list[str]]]:
    """Every unit with its members."""
    with control.session() as session:
        units = list(session.execute(select(UnitRow).order_by(UnitRow.name)).scalars())
        members = session.execute(select(UnitMemberRow)).scalars().all()
        for unit in units:
            session.expunge(unit)
        return [(unit, sorted(m.member for m in members if m.unit == unit.name)) for unit in units]


def units_of(control: Control, member: str) -> set[str]:
    """The units `member` belongs to."""
    with control.session() as session:
        query = select(UnitMemberRow.unit).where(UnitMemberRow.member == member)
        return set(session.execute(query).scalars())


def visible_units(control: Control, case_id: str) -> set[str]:
    """The case's unit and the units with active access to it."""
    with control.session() as session:
        case = session.get(CaseRow, case_id)
        if case is None:
            return set()
        shared = session.execute(
            select(CaseAccessRow.unit).where(
                CaseAccessRow.case_id == case_id, CaseAccessRow.status == "active"
            )
        ).scalars()
        return {case.unit, *shared}


def can_see(control: Control, actor: User, case: CaseRow) -> bool:
    """Whether `actor` may see the case."""
    if actor.name == case.owner or actor.role.value in REVIEW_ROLES:
        return True
    return bool(units_of(control, actor.name) & visible_units(control, case.id))
