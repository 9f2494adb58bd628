"""Mobile device checks: each with a finding and a near miss."""

from __future__ import annotations

import pytest

from custodes.posture import PostureSettings
from tests.posture.scene import Scene

EUROPE = PostureSettings(allowed_countries=("US", "FR"))


@pytest.mark.parametrize(
    ("check", "change"),
    [
        ("device_not_encrypted", {"isEncrypted": False}),
        ("device_without_passcode", {"passcodeSet": False}),
        ("device_jailbroken", {"jailBroken": "True"}),
        ("device_unmanaged", {"managementState": "unmanaged"}),
        ("device_os_outdated", {"osVersion": "16.7.10"}),
        ("device_os_outdated", {"operatingSystem": "Android", "osVersion": "13"}),
        ("device_silent", {"lastSyncDateTime": "2026-10-20T08:00:00Z"}),
    ],
)
def test_device_state_finding_and_a_healthy_twin(
    scene: Scene, check: str, change: dict[str, object]
) -> None:
    scene.person("E1", "owner")
    scene.device("bad", "E1", "owner", **change)
    scene.device("good", "E1", "owner")
    assert scene.subjects(check) == {"bad"}


def test_a_device_just_under_the_silence_threshold_is_not_silent(scene: Scene) -> None:
    scene.device("quiet", "E1", "owner", lastSyncDateTime="2026-10-23T00:00:00Z")
    assert scene.subjects("device_silent") == set()


def test_a_recent_check_in_in_the_lake_wakes_a_silent_inventory_entry(scene: Scene) -> None:
    scene.device("quiet", "E1", "owner", lastSyncDateTime="2026-09-01T00:00:00Z")
    scene.checkin("2026-11-04T09:00:00Z", "quiet", "owner", "US")
    assert scene.subjects("device_silent") == set()


def test_country_not_allowed(scene: Scene) -> None:
    scene.device("d1", "E1", "owner")
    scene.checkin("2026-11-03T07:37:00Z", "d1", "owner", "CN")
    scene.checkin("2026-11-03T08:37:00Z", "d1", "owner", "FR")
    found = [f for f in scene.found(EUROPE) if f.check == "device_country_not_allowed"]
    assert [(f.subject, f.details["countries"]) for f in found] == [("d1", ["CN"])]


def test_abroad_with_registered_travel_is_not_a_finding_without_it_is(scene: Scene) -> None:
    scene.person("E1", "traveller")
    scene.person("E2", "tourist")
    scene.device("covered", "E1", "traveller")
    scene.device("uncovered", "E2", "tourist")
    scene.trips.append(
        {
            "employee_id": "E1",
            "countries": ["FR"],
            "start_date": "2026-11-02",
            "end_date": "2026-11-04",
        }
    )
    scene.checkin("2026-11-03T09:00:00Z", "covered", "traveller", "FR")
    scene.checkin("2026-11-03T09:00:00Z", "uncovered", "tourist", "FR")
    assert {
        f.subject for f in scene.found(EUROPE) if f.check == "device_abroad_without_travel"
    } == {"uncovered"}


def test_travel_covers_only_its_dates(scene: Scene) -> None:
    scene.person("E1", "traveller")
    scene.device("d1", "E1", "traveller")
    scene.trips.append(
        {
            "employee_id": "E1",
            "countries": ["FR"],
            "start_date": "2026-11-02",
            "end_date": "2026-11-02",
        }
    )
    scene.checkin("2026-11-03T09:00:00Z", "d1", "traveller", "FR")
    assert {
        f.subject for f in scene.found(EUROPE) if f.check == "device_abroad_without_travel"
    } == {"d1"}


def test_lost_device_checking_in_after_the_report_but_not_before(scene: Scene) -> None:
    lost = {"lostModeState": "enabled", "lostReportedDateTime": "2026-11-03T18:00:00Z"}
    scene.device("found", "E1", "a", **lost)
    scene.device("silent", "E1", "a", **lost)
    scene.checkin("2026-11-04T09:17:00Z", "found", "a", "US")
    scene.checkin("2026-11-03T09:17:00Z", "silent", "a", "US")
    assert scene.subjects("lost_device_checking_in") == {"found"}


def test_home_country_may_differ_from_the_first_allowed_one(scene: Scene) -> None:
    scene.person("E1", "owner")
    scene.device("d1", "E1", "owner")
    scene.checkin("2026-11-03T09:00:00Z", "d1", "owner", "US")
    belgian = PostureSettings(allowed_countries=("US", "BE"), home_country="BE")
    assert {
        f.subject for f in scene.found(belgian) if f.check == "device_abroad_without_travel"
    } == {"d1"}
