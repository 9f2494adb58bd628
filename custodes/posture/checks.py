"""The checks: each catalogued check name and the SQL that finds it (see `finding.CHECKS`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from custodes.posture import accounts, devices, privileged
from custodes.posture.finding import CHECKS
from custodes.posture.settings import PostureSettings

CheckSql = Callable[[PostureSettings], str]

CHECK_SQL: dict[str, CheckSql] = {
    "account_enabled_after_separation": accounts.enabled_after_separation,
    "activity_after_separation": accounts.activity_after_separation,
    "dormant_account": accounts.dormant,
    "account_without_owner": accounts.without_owner,
    "privileged_account_not_approved": privileged.account_not_approved,
    "privileged_group_change_without_approval": privileged.group_change_without_approval,
    "privileged_logon_off_hours": privileged.logon_off_hours,
    "shared_admin_account_use": privileged.shared_admin_use,
    **{
        name: partial(devices.state_check, condition)
        for name, condition in devices.STATE_CHECKS.items()
    },
    "device_os_outdated": devices.os_outdated,
    "device_silent": devices.silent,
    "device_country_not_allowed": lambda s: devices.abroad(s, only_not_allowed=True),
    "device_abroad_without_travel": lambda s: devices.abroad(s, only_not_allowed=False),
    "lost_device_checking_in": devices.lost_checking_in,
}
assert set(CHECK_SQL) == set(CHECKS), "every catalogued check has its SQL"
