"""Explanations in plain words: the features that contributed most to a score, and by how much."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from custodes.ueba.score import Scores

#: A feature is named in an explanation when its deviation reaches this.
MIN_DEVIATION = 2.0
MOST_REASONS = 4

LABELS = {
    "events": "events",
    "logons": "logons",
    "failed_logons": "failed logons",
    "failed_logons_from_own_address": "failed logons from this account's address",
    "distinct_target_accounts": "accounts tried in failed logons from this account's address",
    "remote_access_logons": "VPN logons",
    "distinct_hosts": "hosts logged on to",
    "distinct_accounts": "accounts logged on",
    "distinct_source_ips": "source addresses of logons",
    "privileged_actions": "privileged actions",
    "account_changes": "account or group changes",
    "bytes_out": "bytes sent",
    "bytes_in": "bytes received",
    "web_requests": "web requests",
    "distinct_web_domains": "web sites",
    "processes_started": "programs started",
    "device_checkins": "mobile device check-ins",
    "distinct_countries": "countries",
    "weekend_activity": "weekend events",
    "off_hours_activity": "events at hours unusual for this account",
    "off_hours_logons": "logons at hours unusual for this account",
    "usb_connects": "removable-device connections",
    "files_copied": "files copied",
    "emails_sent": "e-mails sent",
    "external_recipients": "external e-mail recipients",
    "email_attachments": "e-mail attachments",
}
FIRST_SEEN = {
    "first_seen_country": ("first activity from this country", "{n} countries never seen before"),
    "first_seen_source_ip": (
        "first logon from this source address",
        "logons from {n} source addresses never seen before",
    ),
    "first_seen_hosts": ("first logon to this host", "logons to {n} hosts never used before"),
    "first_seen_processes": ("first run of this program", "{n} programs never run before"),
    "first_seen_web_domains": (
        "first visit to this web site",
        "{n} web sites never visited before",
    ),
    "first_seen_usb": ("first use of a removable device", "{n} removable devices never used"),
    "first_seen_recipients": ("first e-mail to this address", "{n} e-mail recipients never used"),
    "first_seen_accounts": (
        "first logon by this account here",
        "logons by {n} accounts never seen on this host",
    ),
}


@dataclass(frozen=True)
class Reason:
    """One contributing feature: its name, deviation and the sentence that says it."""

    feature: str
    deviation: float
    text: str

    def to_dict(self) -> dict[str, object]:
        """As JSON."""
        return {"feature": self.feature, "deviation": round(self.deviation, 2), "text": self.text}


def label(feature: str) -> str:
    """The words for a feature."""
    if feature.startswith("web_category_"):
        return "web requests to " + feature.removeprefix("web_category_").replace("_", " ")
    return LABELS.get(feature, feature.replace("_", " "))


def amount(feature: str, value: float) -> str:
    """A value in readable units (bytes as MB/GB, counts as integers)."""
    if "bytes" in feature:
        for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
            if value >= size:
                return f"{value / size:.1f} {unit}"
        return f"{value:.0f} B"
    return f"{value:g}"


def sentence(feature: str, value: float, usual: float, versus: str) -> str:
    """'3.4x more hosts logged on to than usual (7 vs 2)', 'first logon from this country'."""
    if feature in FIRST_SEEN:
        one, many = FIRST_SEEN[feature]
        return one if value <= 1 else many.format(n=f"{value:g}")
    if usual < 0.5:
        return f"{amount(feature, value)} {label(feature)} ({versus}: usually none)"
    ratio = value / usual
    return (
        f"{ratio:.1f}x more {label(feature)} than {versus}"
        f" ({amount(feature, value)} vs {amount(feature, usual)})"
    )


def explain_row(scores: Scores, row: int, *, most: int = MOST_REASONS) -> list[Reason]:
    """The features that made row `row` unusual, largest deviation first."""
    contributions = scores.contributions[row]
    reasons = []
    for column in np.argsort(-contributions, kind="stable")[:most]:
        deviation = float(contributions[column])
        if deviation < MIN_DEVIATION:
            break
        feature = scores.table.names[column]
        own, peer = scores.own[row, column], scores.peer[row, column]
        use_own = not np.isnan(own) and (np.isnan(peer) or own >= peer)
        median = scores.baselines.own_median if use_own else scores.baselines.peer_median
        usual = float(np.expm1(median[row, column]))
        versus = "usual" if use_own else f"peers in {scores.table.peer[row]}"
        text = sentence(feature, float(scores.table.values[row, column]), usual, versus)
        if str(scores.table.entity[row]).startswith("host:"):
            text = text.replace("this account", "this host")
        reasons.append(Reason(feature, deviation, text))
    return reasons


def explain_text(reasons: list[Reason]) -> str:
    """Reasons joined into one line."""
    return "; ".join(reason.text for reason in reasons) or "no single feature stands out"
