"""Arrow schemas of the reference snapshots the checks join against the lake."""

from __future__ import annotations

import pyarrow as pa

TIME = pa.timestamp("us", tz="UTC")
NAMES = pa.list_(pa.string())

SCHEMAS: dict[str, pa.Schema] = {
    "people": pa.schema(
        [
            ("employee_id", pa.string()),
            ("first_name", pa.string()),
            ("last_name", pa.string()),
            ("email", pa.string()),
            ("account", pa.string()),
            ("department", pa.string()),
            ("title", pa.string()),
            ("manager_id", pa.string()),
            ("status", pa.string()),
            ("start_date", pa.date32()),
            ("separation_date", pa.date32()),
        ]
    ),
    "accounts": pa.schema(
        [
            ("account", pa.string()),
            ("user_principal_name", pa.string()),
            ("display_name", pa.string()),
            ("employee_id", pa.string()),
            ("owner_employee_id", pa.string()),
            ("kind", pa.string()),
            ("enabled", pa.bool_()),
            ("created_at", TIME),
            ("last_logon_at", TIME),
            ("groups", NAMES),
            ("source", pa.string()),  # directory | linux
            ("host", pa.string()),  # the Linux host of a local account
        ]
    ),
    "approved_accounts": pa.schema(
        [
            ("account", pa.string()),
            ("owner_employee_id", pa.string()),
            ("groups", NAMES),
            ("approved_by", pa.string()),
            ("approved_at", TIME),
            ("expires_at", TIME),
            ("ticket", pa.string()),
        ]
    ),
    "approved_changes": pa.schema(
        [
            ("account", pa.string()),
            ("group", pa.string()),
            ("scope", pa.string()),
            ("approved_by", pa.string()),
            ("approved_at", TIME),
            ("valid_from", pa.date32()),
            ("valid_until", pa.date32()),
            ("ticket", pa.string()),
        ]
    ),
    "privileged_groups": pa.schema([("group", pa.string())]),
    "group_members": pa.schema(
        [("host", pa.string()), ("group", pa.string()), ("account", pa.string())]
    ),
    "devices": pa.schema(
        [
            ("device_id", pa.string()),
            ("name", pa.string()),
            ("owner_upn", pa.string()),
            ("owner_employee_id", pa.string()),
            ("platform", pa.string()),
            ("os_version", pa.string()),
            ("patch_level", pa.date32()),
            ("model", pa.string()),
            ("serial", pa.string()),
            ("is_encrypted", pa.bool_()),
            ("has_passcode", pa.bool_()),
            ("is_jailbroken", pa.bool_()),
            ("is_managed", pa.bool_()),
            ("last_checkin_at", TIME),
            ("last_country", pa.string()),
            ("is_lost", pa.bool_()),
            ("lost_at", TIME),
        ]
    ),
    "trips": pa.schema(
        [
            ("employee_id", pa.string()),
            ("account", pa.string()),
            ("country", pa.string()),
            ("start_date", pa.date32()),
            ("end_date", pa.date32()),
            ("purpose", pa.string()),
            ("approved_by", pa.string()),
        ]
    ),
}
