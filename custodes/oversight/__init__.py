"""Oversight: policy as code, the one door to the data, pseudonyms, reveals, the access ledger."""

from custodes.oversight.access import AccessResult, Door, EventQuery, read
from custodes.oversight.access_log import (
    AccessEntry,
    append_entry,
    entry_to_dict,
    list_entries,
    verify_access_log,
)
from custodes.oversight.grants import (
    RequestError,
    RevealRequest,
    active_subjects,
    decide,
    list_grants,
    list_requests,
    request_reveal,
)
from custodes.oversight.policy import Policy, load_policy, parse_policy
from custodes.oversight.protected import ProtectedChannels, protected_counts
from custodes.oversight.pseudonyms import Pseudonymiser, is_pseudonym

__all__ = [
    "AccessEntry",
    "AccessResult",
    "Door",
    "EventQuery",
    "Policy",
    "ProtectedChannels",
    "Pseudonymiser",
    "RequestError",
    "RevealRequest",
    "active_subjects",
    "append_entry",
    "decide",
    "entry_to_dict",
    "is_pseudonym",
    "list_entries",
    "list_grants",
    "list_requests",
    "load_policy",
    "parse_policy",
    "protected_counts",
    "read",
    "request_reveal",
    "verify_access_log",
]
