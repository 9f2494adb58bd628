"""The policy file (`policy.yaml`): validated with pydantic, errors naming the key.

The policy in force is `<data_dir>/oversight/policy.yaml` once `custodes policy apply` installed
one (each change is an access-ledger entry with who and why), else the default shipped beside
this module.
"""

from __future__ import annotations

import hashlib
import os
from datetime import date, time
from fnmatch import fnmatch
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from custodes.errors import ConfigError

DEFAULT_POLICY = Path(__file__).resolve().parent / "default_policy.yaml"
POLICY_FILE = Path("oversight") / "policy.yaml"
ROLES = ("analyst", "investigator", "oversight", "admin", "ingest")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Strict(BaseModel):
    """A section: unknown keys are mistakes, reported by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Identifiers(Strict):
    """Where person identifiers live."""

    columns: tuple[str, ...] = ("user.name", "user.target.name", "user.id")
    fields: tuple[str, ...] = ()
    free_text: tuple[str, ...] = ()
    system_accounts: tuple[str, ...] = ()
    #: Columns left empty for reads without a case (raw records cannot be fully pseudonymised).
    withheld: tuple[str, ...] = ()


class Purpose(Strict):
    """A declared reason to read data: who may give it, and whether it names a case."""

    roles: tuple[str, ...]
    needs_case: bool = False

    @field_validator("roles")
    @classmethod
    def known_roles(cls, roles: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [role for role in roles if role not in ROLES]
        if unknown:
            raise ValueError(f"unknown role {unknown[0]!r} (known: {', '.join(ROLES)})")
        return roles


class Retention(Strict):
    """How long a dataset stays searchable, then cold; purged after `cold_until_months`."""

    searchable_months: Annotated[int, Field(ge=1)] = 12
    cold_until_months: Annotated[int, Field(ge=1)] = 30


class RetentionRules(Strict):
    """The default retention and per-dataset overrides (dataset name or fnmatch pattern)."""

    default: Retention = Retention()
    datasets: dict[str, Retention] = {}

    def for_dataset(self, dataset: str) -> Retention:
        """The retention of one dataset."""
        for pattern, rule in self.datasets.items():
            if fnmatch(dataset, pattern):
                return rule
        return self.default


class LegalHold(Strict):
    """Data that must not be purged: datasets (patterns) over a span of days."""

    name: str
    reason: str = ""
    datasets: tuple[str, ...] = ("*",)
    since: date | None = None
    until: date | None = None

    def holds(self, dataset: str, day: date) -> bool:
        """Whether this hold keeps the partition (dataset, day)."""
        if self.since is not None and day < self.since:
            return False
        if self.until is not None and day > self.until:
            return False
        return any(fnmatch(dataset, pattern) for pattern in self.datasets)


class ProtectedChannel(Strict):
    """A channel whose events are never stored, only counted per day."""

    name: str
    domains: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()


class RevealApproval(Strict):
    """Who approves reveals, and the longest grant."""

    approver_roles: tuple[str, ...] = ("oversight",)
    max_days: Annotated[int, Field(ge=1, le=366)] = 30


class CaseAccessApproval(Strict):
    """Whether sharing or handing over a case waits for a decision, and who decides."""

    needs_approval: bool = True
    approver_roles: tuple[str, ...] = ("oversight",)


class Approvals(Strict):
    """Approval rules per kind of request."""

    reveal: RevealApproval = RevealApproval()
    share: CaseAccessApproval = CaseAccessApproval(needs_approval=False)
    handover: CaseAccessApproval = CaseAccessApproval(needs_approval=True)


class WorkingHours(Strict):
    """When access is expected."""

    start: time = time(7)
    end: time = time(19)
    weekend_days: tuple[str, ...] = ("Saturday", "Sunday")

    @field_validator("weekend_days")
    @classmethod
    def known_days(cls, days: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [day for day in days if day not in WEEKDAYS]
        if unknown:
            raise ValueError(f"unknown day {unknown[0]!r}")
        return days


class Watchers(Strict):
    """Thresholds of the checks over the access ledger."""

    working_hours: WorkingHours = WorkingHours()
    repeated_lookups: Annotated[int, Field(ge=2)] = 3
    bulk_export_rows: Annotated[int, Field(ge=1)] = 5000


class Policy(Strict):
    """The whole policy."""

    version: int = 1
    identifiers: Identifiers = Identifiers()
    categories: dict[str, tuple[str, ...]] = {}
    purposes: dict[str, Purpose] = {}
    retention: RetentionRules = RetentionRules()
    legal_holds: tuple[LegalHold, ...] = ()
    protected_channels: tuple[ProtectedChannel, ...] = ()
    protected_disclosures: tuple[str, ...] = ()
    approvals: Approvals = Approvals()
    watchers: Watchers = Watchers()

    def category_of(self, dataset: str) -> str:
        """The data category of a dataset (`other` when no pattern matches)."""
        for name, patterns in self.categories.items():
            if any(fnmatch(dataset, pattern) for pattern in patterns):
                return name
        return "other"


def parse_policy(text: str, *, source: str = "policy.yaml") -> Policy:
    """A policy from YAML text; ConfigError naming the first wrong key."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: not YAML: {error}", path=source) from None
    if not isinstance(document, dict):
        raise ConfigError(f"{source}: a policy is a mapping of sections", path=source)
    try:
        return Policy.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top)"
        raise ConfigError(f"{source}: {key}: {first['msg']}", path=source) from None


def policy_path(data_dir: Path) -> Path:
    """Where the applied policy lives."""
    return data_dir / POLICY_FILE


def policy_text(data_dir: Path) -> str:
    """The text of the policy in force."""
    path = policy_path(data_dir)
    return (path if path.exists() else DEFAULT_POLICY).read_text()


def load_policy(data_dir: Path) -> Policy:
    """The policy in force for a data directory."""
    path = policy_path(data_dir)
    source = path if path.exists() else DEFAULT_POLICY
    return parse_policy(source.read_text(), source=str(source))


def digest(text: str) -> str:
    """SHA-256 of a policy's text (its version id in the access ledger)."""
    return hashlib.sha256(text.encode()).hexdigest()


def install_policy(data_dir: Path, text: str) -> Policy:
    """Validate and write a policy atomically (the caller records who and why)."""
    policy = parse_policy(text)
    path = policy_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
    return policy


def policy_from_hints(hints: dict[str, Any], base_text: str | None = None) -> str:
    """A policy.yaml from the demo's policy-hints.json: protected channels and working hours."""
    document = yaml.safe_load(base_text or DEFAULT_POLICY.read_text())
    document["protected_channels"] = [
        {key: value for key, value in channel.items() if key in ProtectedChannel.model_fields}
        for channel in hints.get("protected_channels", [])
    ]
    hours = hints.get("working_hours")
    if hours:
        document["watchers"]["working_hours"] = {
            "start": hours.get("start", "07:00"),
            "end": hours.get("end", "19:00"),
            "weekend_days": hours.get("weekend_days", ["Saturday", "Sunday"]),
        }
    if hints.get("protected_disclosures"):
        document["protected_disclosures"] = list(hints["protected_disclosures"])
    parse_policy(yaml.safe_dump(document))
    header = "# Policy of the demo agency (from policy-hints.json).\n"
    return header + yaml.safe_dump(document, sort_keys=False)
