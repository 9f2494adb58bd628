"""Privileged access checks: each with a finding and a near miss."""

from __future__ import annotations

from custodes.posture import PostureSettings
from tests.posture.scene import Scene


def admin(scene: Scene, name: str, employee_id: str) -> None:
    """An approved admin account of a person."""
    scene.person(employee_id, name.removeprefix("adm_"))
    scene.account(name, employee_id, groups=["Domain Users", "Domain Admins"], kind="admin")
    scene.approved.append({"account": name, "owner_employee_id": employee_id, "groups": []})


def group_added(scene: Scene, at: str, member_cn: str, group: str, host: str, domain: str) -> None:
    """A Windows 4728/4732 addition."""
    scene.event(
        at,
        "windows.security",
        event__code="4732" if domain == "Builtin" else "4728",
        host__name=host,
        fields={
            "MemberName": f"CN={member_cn},OU=Staff,DC=agency,DC=example" if member_cn else "-",
            "MemberSid": "S-1-5-21-1-2-3-1108",
            "TargetUserName": group,
            "TargetDomainName": domain,
            "SubjectUserName": "adm_boss",
        },
    )


def test_members_of_privileged_groups_must_be_approved(scene: Scene) -> None:
    admin(scene, "adm_ok", "E1")
    scene.person("E2", "sneaky")
    scene.accounts[-1]["groups"] = ["Domain Users", "Domain Admins"]
    scene.person("E3", "plain")
    scene.account("Administrator", None, kind="builtin", groups=["Administrators"])
    scene.linux_groups = {"lnx-build01": {"sudo": ["adm_ok", "devuser"], "adm": ["syslog"]}}
    assert scene.subjects("privileged_account_not_approved") == {"sneaky", "devuser"}


def test_an_expired_approval_no_longer_counts(scene: Scene) -> None:
    admin(scene, "adm_old", "E1")
    scene.approved[-1]["expires_at"] = "2026-10-01T00:00:00Z"
    assert scene.subjects("privileged_account_not_approved") == {"adm_old"}


def test_group_addition_with_and_without_approval(scene: Scene) -> None:
    scene.person("E1", "amanda")
    scene.accounts[-1]["display_name"] = "Amanda Brooks"
    group_added(scene, "2026-11-03T22:41:00Z", "Amanda Brooks", "Domain Admins", "DC01", "AGENCY")
    group_added(
        scene, "2026-11-03T10:12:00Z", "", "Administrators", "SQL01.agency.example", "Builtin"
    )
    scene.changes.append(
        {
            "account": "adm_gsingh",
            "group": "Administrators",
            "scope": "SQL01.agency.example",
            "valid_from": "2026-11-03",
            "valid_until": "2027-02-01",
        }
    )
    assert scene.subjects("privileged_group_change_without_approval") == {
        "amanda in Domain Admins on agency"
    }


def test_an_approval_for_another_day_does_not_cover_a_change(scene: Scene) -> None:
    group_added(scene, "2026-11-03T10:12:00Z", "", "Administrators", "SQL01", "Builtin")
    scene.changes.append(
        {"account": "x", "group": "Administrators", "scope": "SQL01", "valid_from": "2026-11-04"}
    )
    assert len(scene.subjects("privileged_group_change_without_approval")) == 1


def test_linux_sudo_addition_without_approval_but_not_an_ordinary_group(scene: Scene) -> None:
    for group in ("sudo", "docker"):
        scene.event(
            "2026-11-02T19:40:02Z",
            "authlog",
            process__name="usermod",
            event__action="user_added_to_group",
            user__target__name="revans",
            host__name="lnx-build01",
            fields={"group": group},
        )
    assert scene.subjects("privileged_group_change_without_approval") == {
        "revans in sudo on lnx-build01"
    }


def privileged_logon(scene: Scene, at: str, account: str, host: str = "APP01") -> None:
    """A 4672."""
    scene.event(
        at,
        "windows.security",
        event__code="4672",
        host__name=host,
        user__name=account,
        fields={"SubjectUserName": account},
    )


def test_privileged_logon_at_night_is_a_finding_in_office_hours_is_not(scene: Scene) -> None:
    privileged_logon(scene, "2026-11-03T23:09:00Z", "abrooks")
    privileged_logon(scene, "2026-11-03T10:00:00Z", "adm_day")
    privileged_logon(scene, "2026-11-01T10:00:00Z", "adm_sunday")  # a Sunday
    scene.event(
        "2026-11-02T21:06:00Z",
        "authlog",
        process__name="sudo",
        event__action="sudo",
        user__name="revans",
        host__name="lnx-build01",
    )
    assert scene.subjects("privileged_logon_off_hours") == {"abrooks", "adm_sunday", "revans"}


def test_night_logons_usual_for_the_account_are_not_findings(scene: Scene) -> None:
    for day in range(1, 4):
        privileged_logon(scene, f"2026-11-0{day}T02:10:00Z", "adm_nightshift")
    privileged_logon(scene, "2026-11-03T02:10:00Z", "adm_once")
    assert scene.subjects("privileged_logon_off_hours") == {"adm_once"}


def test_a_first_privileged_logon_on_a_new_host_after_a_steady_history(scene: Scene) -> None:
    for day in range(1, 4):
        for minute in range(10):
            privileged_logon(scene, f"2026-11-0{day}T10:{minute:02d}:00Z", "adm_a", "DC01")
    privileged_logon(scene, "2026-11-04T11:00:00Z", "adm_a", "HR-DB01")
    settings = PostureSettings(unusual_host_min_logons=20, unusual_host_history_days=3)
    (finding,) = [f for f in scene.found(settings) if f.check == "privileged_logon_off_hours"]
    assert finding.details["new_hosts"] == ["HR-DB01"]
    assert finding.details["off_hours"] == 0


def test_a_new_host_within_the_first_weeks_of_history_is_not_unusual(scene: Scene) -> None:
    for day in range(1, 4):
        for minute in range(10):
            privileged_logon(scene, f"2026-11-0{day}T10:{minute:02d}:00Z", "adm_a", "DC01")
    privileged_logon(scene, "2026-11-04T11:00:00Z", "adm_a", "HR-DB01")
    assert scene.subjects("privileged_logon_off_hours") == set()  # 14 days of history needed


def test_shared_admin_use_by_name_or_directory_kind(scene: Scene) -> None:
    scene.account("Administrator", None, kind="builtin")
    scene.account("ops_shared", None, kind="shared")
    scene.logon("2026-11-03T14:03:00Z", "Administrator", host="SQL01")
    scene.logon("2026-11-03T14:05:00Z", "ops_shared", host="SQL01")
    scene.logon("2026-11-03T14:07:00Z", "adm_named", host="SQL01")
    scene.logon("2026-11-03T14:09:00Z", "Guest", host="SQL01")
    assert scene.subjects("shared_admin_account_use") == {"administrator", "ops_shared"}


def test_a_failed_root_login_is_not_use_of_the_shared_account(scene: Scene) -> None:
    for outcome, host in (("failure", "lnx-web01"), ("success", "lnx-db01")):
        scene.event(
            "2026-11-03T12:00:00Z",
            "authlog",
            process__name="sshd",
            event__category="authentication",
            event__outcome=outcome,
            user__name="root",
            host__name=host,
        )
    (finding,) = [f for f in scene.found() if f.check == "shared_admin_account_use"]
    assert finding.details["hosts"] == ["lnx-db01"]


def sudo_command(scene: Scene, command: str, host: str = "lnx-web01") -> None:
    """A `sudo` line of auth.log running `command` as root."""
    scene.event(
        "2026-11-03T11:00:00Z",
        "authlog",
        process__name="sudo",
        event__action="sudo",
        user__name="adm_ops",
        host__name=host,
        fields={"command": command, "user": "root"},
    )


def test_group_additions_read_from_sudo_command_lines(scene: Scene) -> None:
    sudo_command(scene, "/usr/sbin/usermod -aG wheel,docker alice")
    sudo_command(scene, "/usr/bin/gpasswd -a bob sudo", host="lnx-db01")
    sudo_command(scene, "/usr/sbin/usermod -aG docker carol")
    sudo_command(scene, "/usr/bin/systemctl restart nginx")
    found = [f for f in scene.found() if f.check == "privileged_group_change_without_approval"]
    assert sorted(f.subject for f in found) == [
        "alice in wheel on lnx-web01",
        "bob in sudo on lnx-db01",
    ]
    assert found[0].details["changed_by"] == ["adm_ops"]


def test_an_approval_covers_only_its_groups(scene: Scene) -> None:
    admin(scene, "adm_dom", "E1")
    scene.approved[-1]["groups"] = ["Domain Admins", "sudo"]
    scene.accounts[-1]["groups"] = ["Domain Admins", "Enterprise Admins"]
    admin(scene, "adm_ok", "E2")
    scene.approved[-1]["groups"] = ["Domain Admins"]
    found = [f for f in scene.found() if f.check == "privileged_account_not_approved"]
    assert [(f.subject, f.details["memberships"]) for f in found] == [
        ("adm_dom", ["Enterprise Admins on directory"])
    ]
