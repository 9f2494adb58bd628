"""A Linux privilege change without approval: an admin adds a user to `sudo` after hours."""

from __future__ import annotations

import numpy as np

from custodes.demo.cases import anyone, pick
from custodes.demo.linux import MINUTE, add_auth
from custodes.demo.organisation import Organisation, Person
from custodes.demo.output import Streams
from custodes.demo.schedule import HOUR, Day
from custodes.demo.truth import Facts, Planted, line_recorder, posture, ueba


def sudo_addition(
    org: Organisation,
    rng: np.random.Generator,
    taken: set[int],
    facts: Facts,
    admins: list[Person],
    day_index: int,
) -> Planted:
    """`usermod -aG sudo` by an admin at 19:40, then the new member's root shell at 21:05."""
    person = pick(anyone(org), rng, taken)
    actor = admins[len(admins) // 2]
    host = next(h for h in org.hosts if h.role == "build")
    facts.linux_groups.setdefault(host.name, {}).setdefault("sudo", []).append(person.account)
    planted = Planted(
        "linux-sudo-group-addition",
        "Linux sudo group addition without approval, then a root shell",
        f"{actor.admin_account} adds {person.account} to the sudo group on {host.name} at 19:40"
        f" with no approval on record; {person.account} opens a root shell there at 21:05.",
        "activity",
        [
            posture("privileged_group_change_without_approval"),
            posture("privileged_account_not_approved"),
            posture("privileged_logon_off_hours"),
            ueba("privileged_actions", "off_hours_activity"),
        ],
        [person.account, actor.admin_account or ""],
        [person.employee_id, actor.employee_id],
        [host.name],
        day=day_index,
    )

    def emit(day: Day, streams: Streams) -> None:
        admin, user = actor.admin_account, person.account
        workstation = org.hosts[person.workstation]
        at = day.start + 19 * HOUR + 40 * MINUTE
        rows = [
            (
                host.name,
                f"sudo: {admin} : TTY=pts/1 ; PWD=/home/{admin} ; USER=root ;"
                f" COMMAND=/usr/sbin/usermod -aG sudo {user}",
            ),
            (
                host.name,
                "sudo: pam_unix(sudo:session): session opened for user root(uid=0)"
                f" by {admin}(uid=1001)",
            ),
            (host.name, f"usermod[23411]: add '{user}' to group 'sudo'"),
            (host.name, f"usermod[23411]: add '{user}' to shadow group 'sudo'"),
            (host.name, "sudo: pam_unix(sudo:session): session closed for user root"),
            (
                host.name,
                f"sshd[24870]: Accepted password for {user} from {workstation.ip} port 52144 ssh2",
            ),
            (
                host.name,
                f"sudo: {user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; COMMAND=/bin/bash",
            ),
        ]
        offsets = np.array([0, 1, 2, 3, 5, 85 * MINUTE, 86 * MINUTE])
        add_auth(streams.auth, at + offsets, rows, record=line_recorder(planted, "auth.log"))

    planted.emit = emit
    return planted
