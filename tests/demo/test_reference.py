"""The reference files are what the posture stage imports: its own readers accept them."""

from __future__ import annotations

from pathlib import Path

from custodes.posture import sources
from custodes.posture.settings import load_posture_settings


def test_posture_readers_accept_every_reference_file(tiny_demo: Path) -> None:
    reference = tiny_demo / "reference"
    assert sources.read_roster(reference / "roster.csv").num_rows >= 20
    assert sources.read_accounts(reference / "accounts.json").num_rows >= 20
    approved, changes, groups = sources.read_privileged(reference / "privileged.json")
    assert approved.num_rows >= 2 and changes.num_rows == 1 and "Domain Admins" in groups
    assert sources.read_devices(reference / "devices.json").num_rows >= 10
    assert sources.read_travel(reference / "travel.json").num_rows >= 1
    assert sources.read_linux_groups(reference / "linux-groups.json").num_rows >= 5


def test_posture_settings_of_the_demo_load(tiny_demo: Path) -> None:
    settings = load_posture_settings(tiny_demo / "reference" / "posture.yaml")
    assert "FR" in settings.allowed_countries and "CN" not in settings.allowed_countries
    assert settings.working_hours_start == 7 and settings.weekend_days == (5, 6)
