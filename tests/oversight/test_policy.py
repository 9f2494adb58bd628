"""The policy file: the default validates, mistakes name their key, hints become a policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from custodes.errors import ConfigError
from custodes.oversight.policy import (
    DEFAULT_POLICY,
    load_policy,
    parse_policy,
    policy_from_hints,
)


def test_default_policy_is_valid_and_follows_the_logging_guidance(tmp_path: Path) -> None:
    policy = load_policy(tmp_path)
    retention = policy.retention.for_dataset("windows.security")
    assert (retention.searchable_months, retention.cold_until_months) == (12, 30)
    assert "analyst" in policy.purposes["security-monitoring"].roles
    assert policy.purposes["investigation"].needs_case
    assert policy.approvals.reveal.approver_roles == ("oversight",)
    assert policy.category_of("windows.security") == "authentication"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            {"retention": {"default": {"searchable_months": 0}}},
            "retention.default.searchable_months",
        ),
        (
            {"purposes": {"x": {"roles": ["janitor"]}}},
            "purposes.x.roles: Value error, unknown role",
        ),
        ({"protected_channels": [{"name": "ig", "portz": [1]}]}, "protected_channels.0.portz"),
        ({"watchers": {"working_hours": {"weekend_days": ["Caturday"]}}}, "weekend_days"),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
    ],
)
def test_errors_name_the_key(edit: dict[str, object], message: str) -> None:
    document = yaml.safe_load(DEFAULT_POLICY.read_text())
    document.update(edit)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        parse_policy(yaml.safe_dump(document))


def test_not_a_mapping_is_refused() -> None:
    with pytest.raises(ConfigError, match="mapping"):
        parse_policy("- a list")


def test_hints_become_protected_channels_and_working_hours() -> None:
    hints = {
        "protected_channels": [
            {"name": "IG hotline", "domains": ["hotline.oig.example.gov"], "emails": ["r@x.gov"]}
        ],
        "working_hours": {"start": "08:00", "end": "18:00", "weekend_days": ["Sunday"]},
    }
    policy = parse_policy(policy_from_hints(json.loads(json.dumps(hints))))
    (channel,) = policy.protected_channels
    assert channel.domains == ("hotline.oig.example.gov",)
    assert policy.watchers.working_hours.weekend_days == ("Sunday",)
