"""Cases: people's work on alerts, events and timelines, shared between units, exported."""

from custodes.cases.case import (
    CASE_TYPES,
    SEVERITIES,
    STATUSES,
    add_alert,
    add_item,
    add_note,
    cases_by_type,
    get_case,
    list_cases,
    open_case,
    update_case,
)
from custodes.cases.evidence import add_attachment, add_events, add_timeline, case_event_ids
from custodes.cases.export import CaseExport, export_case
from custodes.cases.record import case_to_dict, history, list_items
from custodes.cases.sharing import (
    AccessApproval,
    CaseApprovals,
    decide_access,
    pending_access,
    request_access,
)
from custodes.cases.units import CaseError, add_unit, can_see, list_units, units_of

__all__ = [
    "CASE_TYPES",
    "SEVERITIES",
    "STATUSES",
    "AccessApproval",
    "CaseApprovals",
    "CaseError",
    "CaseExport",
    "add_alert",
    "add_attachment",
    "add_events",
    "add_item",
    "add_note",
    "add_timeline",
    "add_unit",
    "can_see",
    "case_event_ids",
    "case_to_dict",
    "cases_by_type",
    "decide_access",
    "export_case",
    "get_case",
    "history",
    "list_cases",
    "list_items",
    "list_units",
    "open_case",
    "pending_access",
    "request_access",
    "units_of",
    "update_case",
]
