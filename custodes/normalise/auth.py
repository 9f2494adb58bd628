"""What a login-related syslog message means: sshd, sudo, su, PAM and account management.

`auth_event(program, message)` returns the columns it understands (`event.action`,
`event.outcome`, `event.category`, `user.name`, `user.target.name`, `source.ip`, ...) plus
`fields`, or None. Shared by every syslog flavour (RFC 3164, RFC 5424, auth.log).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from custodes.events import FIELDS_COLUMN

Rule = tuple[re.Pattern[str], str, str | None, str]  # pattern, action, outcome, category

_IP = r"(?P<ip>[0-9A-Fa-f:.]+)"
_PORT = r"(?: port (?P<port>\d+))?"
SSHD_RULES: tuple[Rule, ...] = (
    (
        re.compile(rf"Accepted (?P<method>\S+) for (?P<user>.+?) from {_IP}{_PORT}"),
        "ssh_login",
        "success",
        "authentication",
    ),
    (
        re.compile(
            rf"Failed (?P<method>\S+) for (?:invalid user )?(?P<user>.*?) from {_IP}{_PORT}"
        ),
        "ssh_login",
        "failure",
        "authentication",
    ),
    (
        re.compile(rf"(?:Invalid|[Ii]llegal) user (?P<user>.*?) from {_IP}{_PORT}"),
        "ssh_invalid_user",
        "failure",
        "authentication",
    ),
    (
        re.compile(r"input_userauth_request: (?:invalid|illegal) user (?P<user>\S*)"),
        "ssh_invalid_user",
        "failure",
        "authentication",
    ),
    (
        re.compile(rf"authentication error for (?:illegal|invalid) user (?P<user>\S*) from {_IP}"),
        "ssh_invalid_user",
        "failure",
        "authentication",
    ),
    (
        re.compile(
            r"maximum authentication attempts exceeded for (?:invalid user )?"
            rf"(?P<user>\S*) from {_IP}{_PORT}"
        ),
        "ssh_too_many_attempts",
        "failure",
        "authentication",
    ),
    (
        re.compile(rf"User (?P<user>\S+) from {_IP} not allowed because"),
        "ssh_denied_user",
        "failure",
        "authentication",
    ),
    (
        re.compile(
            r"Disconnecting(?: authenticating user (?P<user>\S+) \S+ port \d+)?:"
            r" Too many authentication failures(?: for (?:invalid user )?(?P<user2>\S+))?"
        ),
        "ssh_too_many_attempts",
        "failure",
        "authentication",
    ),
    (
        re.compile(
            rf"(?:Connection closed|Received disconnect|Disconnected) (?:by|from) "
            rf"(?:(?:invalid |authenticating )?user (?P<user>\S+) )?{_IP}{_PORT}"
        ),
        "ssh_disconnect",
        None,
        "session",
    ),
    (
        re.compile(rf"Did not receive identification string from {_IP}{_PORT}"),
        "ssh_no_identification",
        "failure",
        "network",
    ),
    (
        re.compile(rf"Unable to negotiate (?:with {_IP}{_PORT}|a key exchange method)"),
        "ssh_negotiation_failed",
        "failure",
        "network",
    ),
    (
        re.compile(rf"Bad protocol version identification .* from {_IP}{_PORT}"),
        "ssh_bad_protocol",
        "failure",
        "network",
    ),
    (
        re.compile(
            r"(?:reverse mapping checking getaddrinfo for \S+ \[|Address )(?P<ip>[0-9A-Fa-f:.]+)"
        ),
        "ssh_reverse_mapping_failed",
        None,
        "network",
    ),
)
PAM_RULES: tuple[Rule, ...] = (
    (
        re.compile(
            r"authentication failure;.*?(?: rhost=(?P<ip>\S*))?(?:\s+user=(?P<user>\S+))?\s*$"
        ),
        "authentication_failure",
        "failure",
        "authentication",
    ),
    (
        re.compile(
            r"(?P<count>\d+) more authentication failures?;"
            r".*?rhost=(?P<ip>\S*)\s+user=(?P<user>\S+)"
        ),
        "authentication_failure",
        "failure",
        "authentication",
    ),
    (
        re.compile(
            r"session opened for user (?P<target>[^\s(]+)(?:\(uid=\d+\))? by (?P<user>[^\s(]*)"
        ),
        "session_opened",
        "success",
        "session",
    ),
    (
        re.compile(r"session closed for user (?P<target>[^\s(]+)"),
        "session_closed",
        "success",
        "session",
    ),
    (
        re.compile(r"check pass; user unknown"),
        "authentication_failure",
        "failure",
        "authentication",
    ),
    (
        re.compile(r"password changed for (?P<target>\S+)"),
        "password_changed",
        "success",
        "iam",
    ),
)
SU_RULES: tuple[Rule, ...] = (
    (
        re.compile(
            r"(?:Successful su|\(to (?P<target2>\S+)\)) (?:for (?P<target>\S+) by )?(?P<user>\S+)"
        ),
        "su",
        "success",
        "authentication",
    ),
    (
        re.compile(r"FAILED su for (?P<target>\S+) by (?P<user>\S+)"),
        "su",
        "failure",
        "authentication",
    ),
    (re.compile(r"^\+ \S+ (?P<user>[^:\s]+):(?P<target>\S+)"), "su", "success", "authentication"),
    (re.compile(r"^- \S+ (?P<user>[^:\s]+):(?P<target>\S+)"), "su", "failure", "authentication"),
    (
        re.compile(r"failed: \S+ changing from (?P<user>\S+) to (?P<target>\S+)"),
        "su",
        "failure",
        "authentication",
    ),
    (re.compile(r"pam_authenticate: Authentication failure"), "su", "failure", "authentication"),
)
ACCOUNT_RULES: tuple[Rule, ...] = (
    (re.compile(r"new user: name=(?P<target>[^,\s]+)"), "user_created", "success", "iam"),
    (re.compile(r"new group: name=(?P<target>[^,\s]+)"), "group_created", "success", "iam"),
    (
        re.compile(r"group added to \S+: name=(?P<target>[^,\s]+)"),
        "group_created",
        "success",
        "iam",
    ),
    (re.compile(r"delete user '(?P<target>[^']+)'"), "user_deleted", "success", "iam"),
    (re.compile(r"removed group '(?P<target>[^']+)'"), "group_deleted", "success", "iam"),
    (re.compile(r"group '(?P<target>[^']+)' removed"), "group_deleted", "success", "iam"),
    (
        re.compile(r"add '(?P<target>[^']+)' to (?:shadow )?group '(?P<group>[^']+)'"),
        "user_added_to_group",
        "success",
        "iam",
    ),
    (re.compile(r"change user '(?P<target>[^']+)' password"), "password_changed", "success", "iam"),
    (re.compile(r"(?:lock|unlock) user '(?P<target>[^']+)'"), "user_modified", "success", "iam"),
    (re.compile(r"change user '(?P<target>[^']+)'"), "user_modified", "success", "iam"),
)
SUDO_LINE = re.compile(
    r"^\s*(?P<user>\S+) : (?:(?P<problem>[^;]*?) ; )?TTY=(?P<tty>[^;]*) ;(?P<rest>.*)$"
)
SUDO_FAILURES = ("incorrect password", "NOT in sudoers", "NOT allowed", "authentication failure")
ACCOUNT_PROGRAMS = frozenset(
    {
        "useradd",
        "usermod",
        "userdel",
        "groupadd",
        "groupdel",
        "groupmod",
        "passwd",
        "chpasswd",
        "gpasswd",
    }
)


def auth_event(program: str, message: str) -> dict[str, Any] | None:
    """The login/account meaning of one syslog message, or None when it has none we know."""
    base, _, module = program.partition("(")
    base = base.rsplit("/", 1)[-1].lower()
    body = unwrap_repeated(message)
    if base == "sudo" and (found := sudo_event(body)) is not None:
        return found
    rules: tuple[Rule, ...] = ()
    if base == "sshd":
        rules = SSHD_RULES
    elif base == "su":
        rules = SU_RULES
    elif base in ACCOUNT_PROGRAMS:
        rules = ACCOUNT_RULES
    found = first_match(rules, body)
    if found is None and (module.startswith("pam") or "pam_unix(" in body or "pam_" in body[:12]):
        found = first_match(PAM_RULES, body)
    if found is None and base in ("sshd", "su", "sudo", "login", "systemd-logind", "cron"):
        found = first_match(PAM_RULES, body)
    return found


def unwrap_repeated(message: str) -> str:
    """`message repeated 3 times: [ Failed password ...]` -> `Failed password ...`."""
    if message.startswith("message repeated ") and ": [ " in message:
        return message.split(": [ ", 1)[1].rstrip("]").rstrip()
    return message


def first_match(rules: tuple[Rule, ...], message: str) -> dict[str, Any] | None:
    """The columns of the first rule whose pattern matches."""
    for pattern, action, outcome, category in rules:
        match = pattern.search(message)
        if match is not None:
            return event_columns(match.groupdict(), action, outcome, category)
    return None


def event_columns(
    groups: dict[str, str | None], action: str, outcome: str | None, category: str
) -> dict[str, Any]:
    """Columns from the named groups of a matched rule."""
    value: Callable[[str], str | None] = lambda name: groups.get(name) or None  # noqa: E731
    user = value("user") or value("user2")
    target = value("target") or value("target2")
    row: dict[str, Any] = {
        "event.action": action,
        "event.outcome": outcome,
        "event.category": category,
        "user.name": user,
        "user.target.name": target,
    }
    if user is None and category != "iam":  # "session opened for user X": X is the one in
        row["user.name"], row["user.target.name"] = target, None
    ip = value("ip")
    if ip is not None and any(char.isdigit() for char in ip) and ("." in ip or ":" in ip):
        row["source.ip"] = ip
    if value("port") is not None:
        port = int(groups["port"] or 0)
        row["source.port"] = port if port < 65536 else None
    fields = {name: text for name, text in groups.items() if text and name in ("method", "group")}
    if fields:
        row[FIELDS_COLUMN] = fields
    return row


def sudo_event(message: str) -> dict[str, Any] | None:
    """`alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls` (or a refusal)."""
    match = SUDO_LINE.match(message)
    if match is None:
        return None
    pairs = dict(part.strip().split("=", 1) for part in match["rest"].split(" ; ") if "=" in part)
    problem = match["problem"] or ""
    failed = any(word in problem for word in SUDO_FAILURES)
    row: dict[str, Any] = {
        "event.action": "sudo",
        "event.outcome": "failure" if failed else "success",
        "event.category": "process",
        "user.name": match["user"],
        "user.target.name": pairs.get("USER"),
        "process.command_line": pairs.get("COMMAND"),
    }
    fields = {"tty": match["tty"].strip(), **{key.lower(): text for key, text in pairs.items()}}
    if problem:
        fields["reason"] = problem.strip()
    row[FIELDS_COLUMN] = fields
    return row
