"""What a posture check finds: one `Finding` per check and subject, and the catalogue of checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class CheckInfo:
    """A check's name, what it means for an auditor, how grave, and whether it is about activity."""

    name: str
    title: str
    level: str
    area: str  # accounts | privileged | devices
    is_activity: bool = False


CHECKS: dict[str, CheckInfo] = {
    info.name: info
    for info in (
        CheckInfo(
            "account_enabled_after_separation",
            "Account still enabled after its owner's separation",
            "high",
            "accounts",
        ),
        CheckInfo(
            "activity_after_separation",
            "Logon or activity after the owner's separation",
            "critical",
            "accounts",
            is_activity=True,
        ),
        CheckInfo("dormant_account", "Dormant enabled account", "low", "accounts"),
        CheckInfo(
            "account_without_owner",
            "Directory account with no owner on the roster",
            "medium",
            "accounts",
        ),
        CheckInfo(
            "privileged_account_not_approved",
            "Privileged account not on the approved list",
            "high",
            "privileged",
        ),
        CheckInfo(
            "privileged_group_change_without_approval",
            "Addition to a privileged group without a matching approval",
            "high",
            "privileged",
            is_activity=True,
        ),
        CheckInfo(
            "privileged_logon_off_hours",
            "Privileged logon outside the owner's usual hours or hosts",
            "medium",
            "privileged",
            is_activity=True,
        ),
        CheckInfo(
            "shared_admin_account_use",
            "Use of a shared or built-in administrator account",
            "medium",
            "privileged",
            is_activity=True,
        ),
        CheckInfo("device_not_encrypted", "Device storage not encrypted", "high", "devices"),
        CheckInfo("device_without_passcode", "Device without a passcode", "high", "devices"),
        CheckInfo("device_jailbroken", "Device jailbroken or rooted", "high", "devices"),
        CheckInfo("device_unmanaged", "Device no longer managed", "medium", "devices"),
        CheckInfo(
            "device_os_outdated", "Device below the minimum OS or patch level", "medium", "devices"
        ),
        CheckInfo("device_silent", "Device silent for too long", "low", "devices"),
        CheckInfo(
            "device_country_not_allowed",
            "Device checking in from a country that is not allowed",
            "high",
            "devices",
            is_activity=True,
        ),
        CheckInfo(
            "device_abroad_without_travel",
            "Device abroad without registered travel",
            "medium",
            "devices",
            is_activity=True,
        ),
        CheckInfo(
            "lost_device_checking_in",
            "Device reported lost still checking in",
            "high",
            "devices",
            is_activity=True,
        ),
    )
}


@dataclass(frozen=True)
class Finding:
    """One check that holds for one subject (an account, a device, a membership) at a run."""

    check: str
    subject: str
    account: str | None = None
    employee_id: str | None = None
    host: str | None = None
    device_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    first_at: datetime | None = None  # the activity behind it, when there is some
    last_at: datetime | None = None
    event_ids: tuple[str, ...] = ()

    @property
    def info(self) -> CheckInfo:
        """The catalogue entry of its check."""
        return CHECKS[self.check]
