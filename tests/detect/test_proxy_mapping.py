"""SigmaHQ proxy rules read CEF proxy requests (url.original, destination.domain, user agent)."""

from __future__ import annotations

from pathlib import Path

from custodes.detect import compile_rules, load_rules
from custodes.events import RawRecord
from custodes.normalise import CefParser, Normaliser

RCLONE_RULE = "2c03648b-e081-41a5-b9fb-7d854a915091"
PWNDROP_RULE = "2b1ee7e4-89b6-4739-b7bb-b811b6607e5e"
TELEGRAM_RULE = "b494b165-6634-483d-8c47-2026a6c52372"
PROXY = (
    "CEF:0|Squid|Squid Proxy|6.10|TCP_MISS|web request|1|rt=1764115200000 dvchost=proxy01"
    " src=10.8.0.12 suser=jdoe shost=WS-00012 requestMethod=PUT"
    " request=https://content.dropboxapi.com/2/files/upload dhost=content.dropboxapi.com"
    " dst=162.125.4.14 dpt=443 out=52428800 in=512 act=TCP_MISS outcome=200"
    " cat=Personal Storage requestClientApplication={agent}"
)
VPN = (
    "CEF:0|Palo Alto Networks|GlobalProtect|10.2.4|globalprotect-login|GlobalProtect gateway"
    " login|3|rt=1764115200000 dvchost=vpn01 act=login outcome=success suser=jdoe"
    " src=198.51.100.7 spt=51000 dst=192.0.2.1 dpt=443 shost=WS-00012 in=0 out=0"
)


def hits(datasets: Path, *lines: str) -> list[tuple[str, int]]:
    """(rule id, matched row) of the SigmaHQ proxy rules over these CEF lines."""
    rule_set = load_rules([datasets / "sigma" / "rules" / "web" / "proxy_generic"])
    assert not rule_set.errors
    records = [RawRecord(line.encode(), origin="test", position=n) for n, line in enumerate(lines)]
    batch, failures = Normaliser([CefParser()]).normalise(records)
    assert not failures
    matched = compile_rules(rule_set).match(batch)
    return sorted((hit.rule.id, row) for hit in matched for row in hit.rows.to_pylist())


def test_a_cef_proxy_request_from_rclone_fires_the_sigmahq_rclone_rule(datasets: Path) -> None:
    found = hits(
        datasets,
        PROXY.format(agent="rclone/v1.68.1"),
        PROXY.format(agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/133.0"),
        VPN,
    )
    assert (RCLONE_RULE, 0) in found
    assert [row for _, row in found] == [0] * len(found)  # the browser and the VPN stay quiet


def test_proxy_rules_read_the_request_url_and_host_of_cef_events(datasets: Path) -> None:
    upload = "https://content.dropboxapi.com/2/files/upload"
    pwndrop = PROXY.format(agent="curl/8.5.0").replace(upload, "https://files.example/pwndrop/a")
    telegram = PROXY.format(agent="python-requests/2.32").replace(
        "dhost=content.dropboxapi.com", "dhost=api.telegram.org"
    )
    found = hits(datasets, pwndrop, telegram)
    assert (PWNDROP_RULE, 0) in found  # c-uri|contains reads url.original
    assert (TELEGRAM_RULE, 1) in found  # cs-host reads destination.domain
    assert (TELEGRAM_RULE, 0) not in found
