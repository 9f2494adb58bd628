"""One row of each reference file, validated with pydantic (the edge of the posture stage)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

STRICT_BOOLS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}


class Entry(BaseModel):
    """A row: unknown keys ignored (exports carry more than we need), names by alias too."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def blanks_are_missing(cls, value: Any) -> Any:
        """An empty string (a blank CSV cell, `""` in JSON) is a value not given."""
        if isinstance(value, dict):
            return {key: item for key, item in value.items() if item != ""}
        return value


class PersonRow(Entry):
    """One person on the HR roster."""

    employee_id: str = Field(min_length=1)
    first_name: str = ""
    last_name: str = ""
    email: str | None = None
    account: str | None = None
    department: str | None = None
    title: str | None = None
    manager_id: str | None = None
    status: str = "active"
    start_date: date | None = None
    separation_date: date | None = None


class AccountRow(Entry):
    """One directory account (AD `sAMAccountName` / Entra `userPrincipalName` names accepted)."""

    sam_account_name: str = Field(
        min_length=1, validation_alias=AliasChoices("sam_account_name", "sAMAccountName", "name")
    )
    user_principal_name: str | None = Field(
        None, validation_alias=AliasChoices("user_principal_name", "userPrincipalName")
    )
    display_name: str | None = Field(
        None, validation_alias=AliasChoices("display_name", "displayName")
    )
    employee_id: str | None = Field(
        None, validation_alias=AliasChoices("employee_id", "employeeId")
    )
    owner_employee_id: str | None = None
    kind: str = "user"
    enabled: bool = Field(True, validation_alias=AliasChoices("enabled", "accountEnabled"))
    created_at: datetime | None = Field(
        None, validation_alias=AliasChoices("created_at", "createdDateTime", "whenCreated")
    )
    last_logon_at: datetime | None = Field(
        None,
        validation_alias=AliasChoices("last_logon_at", "lastLogonTimestamp", "lastSignInDateTime"),
    )
    groups: list[str] = Field(
        default_factory=list, validation_alias=AliasChoices("groups", "memberOf")
    )

    def to_row(self, source: str, host: str | None) -> dict[str, Any]:
        """The row of the `accounts` snapshot."""
        return {
            "account": self.sam_account_name,
            "user_principal_name": self.user_principal_name,
            "display_name": self.display_name,
            "employee_id": self.employee_id,
            "owner_employee_id": self.owner_employee_id or self.employee_id,
            "kind": self.kind,
            "enabled": self.enabled,
            "created_at": self.created_at,
            "last_logon_at": self.last_logon_at,
            "groups": self.groups,
            "source": source,
            "host": host,
        }


class ApprovalRow(Entry):
    """An approved privileged account and its owner."""

    account: str = Field(min_length=1)
    owner_employee_id: str | None = None
    groups: list[str] = Field(default_factory=list)
    approved_by: str | None = None
    approved_at: datetime | None = None
    expires_at: datetime | None = None
    ticket: str | None = None


class ChangeApprovalRow(Entry):
    """An approved addition of `account` to `group` on `scope` (a host, or the domain)."""

    account: str = Field(min_length=1)
    group: str = Field(min_length=1)
    scope: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    valid_from: date
    valid_until: date | None = None
    ticket: str | None = None


class DeviceRow(Entry):
    """One managed device (Intune names, or Jamf-style alternatives)."""

    device_id: str = Field(min_length=1, validation_alias=AliasChoices("id", "device_id", "udid"))
    name: str | None = Field(None, validation_alias=AliasChoices("deviceName", "name"))
    owner_upn: str | None = Field(
        None, validation_alias=AliasChoices("userPrincipalName", "owner_upn", "username")
    )
    owner_employee_id: str | None = Field(
        None, validation_alias=AliasChoices("ownerEmployeeId", "owner_employee_id")
    )
    platform: str = Field(validation_alias=AliasChoices("operatingSystem", "platform", "os"))
    os_version: str = Field(validation_alias=AliasChoices("osVersion", "os_version"))
    patch_level: date | None = Field(
        None, validation_alias=AliasChoices("securityPatchLevel", "patch_level")
    )
    model: str | None = None
    serial: str | None = Field(None, validation_alias=AliasChoices("serialNumber", "serial_number"))
    is_encrypted: bool = Field(validation_alias=AliasChoices("isEncrypted", "encrypted"))
    has_passcode: bool = Field(validation_alias=AliasChoices("passcodeSet", "passcode_present"))
    is_jailbroken: bool = Field(validation_alias=AliasChoices("jailBroken", "jailbroken"))
    is_managed: bool = Field(validation_alias=AliasChoices("managementState", "managed"))
    last_checkin_at: datetime | None = Field(
        None, validation_alias=AliasChoices("lastSyncDateTime", "last_inventory_update")
    )
    last_country: str | None = Field(
        None, validation_alias=AliasChoices("lastKnownCountry", "last_country")
    )
    is_lost: bool = Field(False, validation_alias=AliasChoices("lostModeState", "lost_mode"))
    lost_at: datetime | None = Field(
        None, validation_alias=AliasChoices("lostReportedDateTime", "lost_at")
    )

    @field_validator("is_jailbroken", "is_lost", "is_managed", mode="before")
    @classmethod
    def words_as_bools(cls, value: Any) -> Any:
        """Intune writes "True"/"False", "managed"/"unmanaged", "enabled"/"disabled"."""
        if isinstance(value, str):
            word = value.strip().lower()
            named = {"managed": True, "unmanaged": False, "enabled": True, "disabled": False}
            if word in named:
                return named[word]
            if word in STRICT_BOOLS:
                return STRICT_BOOLS[word]
            if word == "unknown":
                return False
        return value


class TripRow(Entry):
    """A registered official trip."""

    employee_id: str = Field(min_length=1)
    account: str | None = None
    countries: list[str] = Field(min_length=1)
    start_date: date
    end_date: date
    purpose: str | None = None
    approved_by: str | None = None

    @model_validator(mode="after")
    def ends_after_it_starts(self) -> TripRow:
        """A trip cannot end before it starts."""
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self

    def per_country(self) -> list[dict[str, Any]]:
        """One row per country visited."""
        base = self.model_dump(exclude={"countries"})
        return [{**base, "country": country.upper()} for country in self.countries]
