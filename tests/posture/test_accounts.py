"""Account checks: each with a finding and a near miss that must not be one."""

from __future__ import annotations

from tests.posture.scene import Scene


def test_enabled_after_separation_yesterday_is_a_finding_today_is_not(scene: Scene) -> None:
    scene.person("E1", "gone", separation_date="2026-11-04")
    scene.person("E2", "leaving", separation_date="2026-11-05")
    scene.person("E3", "staying")
    findings = [f for f in scene.found() if f.check == "account_enabled_after_separation"]
    assert [(f.subject, f.details["days_since_separation"]) for f in findings] == [("gone", 1)]


def test_disabled_account_of_a_leaver_is_not_a_finding(scene: Scene) -> None:
    scene.person("E1", "gone", separation_date="2026-10-01")
    scene.accounts[-1]["enabled"] = False
    assert scene.subjects("account_enabled_after_separation") == set()


def test_logons_after_the_separation_day_are_activity_but_on_the_day_are_not(
    scene: Scene,
) -> None:
    scene.person("E1", "gone", separation_date="2026-11-02")
    scene.person("E2", "lastday", separation_date="2026-11-03")
    scene.logon("2026-11-02T16:00:00Z", "AGENCY\\gone")  # the last day at work
    scene.logon("2026-11-03T21:40:00Z", "gone@agency.example", code="4768")
    scene.logon("2026-11-03T16:00:00Z", "lastday")
    findings = [f for f in scene.found() if f.check == "activity_after_separation"]
    assert [f.subject for f in findings] == ["gone"]
    assert len(findings[0].event_ids) == 1
    assert findings[0].details["kinds"] == ["windows 4768"]


def test_vpn_sshd_and_mdm_activity_count_after_separation(scene: Scene) -> None:
    scene.person("E1", "gone", separation_date="2026-11-01")
    scene.event("2026-11-03T21:00:00Z", "cef", event__action="login", user__name="gone")
    scene.event(
        "2026-11-03T21:05:00Z",
        "authlog",
        process__name="sshd",
        event__category="authentication",
        user__name="gone",
        host__name="lnx-web01",
    )
    scene.checkin("2026-11-03T21:10:00Z", "dev-1", "gone", "US")
    (finding,) = [f for f in scene.found() if f.check == "activity_after_separation"]
    assert finding.details["kinds"] == ["mdm check-in", "sshd", "vpn"]


def test_dormant_account_beyond_the_threshold_only(scene: Scene) -> None:
    scene.account("svc_old", None, owner_employee_id="E1", last_logon_at="2026-07-01T00:00:00Z")
    scene.account("svc_recent", None, owner_employee_id="E1", last_logon_at="2026-09-01T00:00:00Z")
    scene.person("E1", "owner")
    assert scene.subjects("dormant_account") == {"svc_old"}


def test_a_recent_logon_in_the_lake_keeps_an_account_from_being_dormant(scene: Scene) -> None:
    scene.person("E1", "owner")
    scene.account("svc_old", None, owner_employee_id="E1", last_logon_at="2026-01-01T00:00:00Z")
    scene.logon("2026-11-03T03:00:00Z", "svc_old")
    assert scene.subjects("dormant_account") == set()


def test_account_without_owner_but_not_builtin_ones(scene: Scene) -> None:
    scene.person("E1", "owned")
    scene.account("contractor", None)
    scene.account("svc_x", None, owner_employee_id="E1", kind="service")
    scene.account("Administrator", None, kind="builtin")
    scene.account("left_owner", None, owner_employee_id="E404", kind="service")
    assert scene.subjects("account_without_owner") == {"contractor", "left_owner"}
