"""CEF, web access logs, IIS, osquery, Sysmon for Linux, netlogon and generic JSON."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from custodes.events import RawRecord
from custodes.normalise import Normaliser, builtin_parsers


def parse(data: bytes, **record: Any) -> dict[str, Any]:
    batch, failures = Normaliser(builtin_parsers()).normalise([RawRecord(data, **record)])
    assert failures == [], failures[0].reason if failures else ""
    row: dict[str, Any] = batch.to_pylist()[0]
    row["fields"] = dict(row["fields"])
    return row


def test_cef_maps_extension_keys_and_keeps_them_all() -> None:
    row = parse(
        b"<134>Feb 14 19:04:54 relay01 CEF:0|Acme|Fire\\|Wall|2.1|4000|Blocked connection|7|"
        b"src=10.0.0.5 spt=44123 dst=203.0.113.10 dpt=443 suser=alice shost=ws01 "
        b"dhost=bad.example act=blocked outcome=failure request=https://bad.example/x?y=1 "
        b"requestMethod=GET out=5120 proto=TCP msg=note with spaces a\\=b cs1Label=policy "
        b"cs1=default rt=1707937494000"
    )
    assert (row["source.ip"], row["source.port"]) == ("10.0.0.5", 44123)
    assert (row["destination.ip"], row["destination.port"]) == ("203.0.113.10", 443)
    assert (row["user.name"], row["host.name"], row["destination.domain"]) == (
        "alice",
        "ws01",
        "bad.example",
    )
    assert (row["event.action"], row["event.outcome"]) == ("blocked", "failure")
    assert row["url.original"] == "https://bad.example/x?y=1"
    assert (row["http.request.method"], row["network.bytes"]) == ("GET", 5120)
    assert (row["event.code"], row["event.severity"]) == ("4000", 7)
    assert row["network.transport"] == "tcp"
    assert row["message"] == "note with spaces a=b"
    assert row["@timestamp"] == datetime(2024, 2, 14, 19, 4, 54, tzinfo=UTC)
    assert row["fields"]["deviceProduct"] == "Fire|Wall"
    assert row["fields"]["cs1"] == "default"


def test_cef_with_a_short_header_is_quarantined() -> None:
    _, failures = Normaliser(builtin_parsers()).normalise([RawRecord(b"CEF:0|a|b|c")])
    assert failures[0].parser == "cef" and "header" in failures[0].reason


def test_combined_access_log_line_gives_w3c_fields() -> None:
    row = parse(
        b'198.51.100.7 - bob [11/Jul/2018:08:41:28 +0300] "GET /shell.jsp?cmd=id HTTP/1.1" '
        b'200 512 "http://x/" "curl/8.0"',
        format="access-log",
    )
    assert row["@timestamp"] == datetime(2018, 7, 11, 5, 41, 28, tzinfo=UTC)
    assert (row["source.ip"], row["user.name"]) == ("198.51.100.7", "bob")
    assert (row["http.request.method"], row["url.original"]) == ("GET", "/shell.jsp?cmd=id")
    assert (row["http.response.status_code"], row["network.bytes"]) == (200, 512)
    assert row["user_agent.original"] == "curl/8.0"
    fields = row["fields"]
    assert (fields["cs-method"], fields["cs-uri-stem"], fields["cs-uri-query"]) == (
        "GET",
        "/shell.jsp",
        "cmd=id",
    )
    assert (fields["sc-status"], fields["c-ip"]) == ("200", "198.51.100.7")
    assert fields["cs-user-agent"] == fields["c-useragent"] == "curl/8.0"
    assert fields["cs-referer"] == "http://x/"


def test_access_log_request_with_bare_quotes_still_parses() -> None:
    row = parse(
        b'10.0.0.1 - - [11/Jul/2018:09:32:27 +0300] "GET /a?p="><script>x</script> HTTP/1.1" 404 9'
    )
    assert row["http.response.status_code"] == 404
    assert row["event.outcome"] == "failure"
    assert row["fields"]["cs-uri-query"] == 'p="><script>x</script>'


def test_iis_line_is_read_with_its_fields_header() -> None:
    header = (
        "#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n"
        "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
        "cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken"
    )
    row = parse(
        b"2019-09-03 10:13:36 10.0.2.15 GET /erp/conn.aspx proxy&port=3389 80 - 10.0.2.17 "
        b"Mozilla/5.0+(Windows) - 200 0 0 7",
        format="iis",
        context=header,
    )
    assert row["@timestamp"] == datetime(2019, 9, 3, 10, 13, 36, tzinfo=UTC)
    assert (row["source.ip"], row["destination.ip"], row["destination.port"]) == (
        "10.0.2.17",
        "10.0.2.15",
        80,
    )
    assert row["url.original"] == "/erp/conn.aspx?proxy&port=3389"
    assert row["user_agent.original"] == "Mozilla/5.0 (Windows)"
    assert row["fields"]["c-useragent"] == "Mozilla/5.0 (Windows)"
    assert row["fields"]["cs-uri-query"] == "proxy&port=3389"
    assert "cs-username" not in row["fields"]


def test_osquery_differential_result() -> None:
    row = parse(
        b'{"name":"pack_incident_processes","hostIdentifier":"srv1","calendarTime":"x",'
        b'"unixTime":1700000000,"epoch":0,"counter":1,"numerics":false,'
        b'"columns":{"pid":"123","name":"nc","path":"/usr/bin/nc","cmdline":"nc -l 4444",'
        b'"uid":"0"},"action":"added"}'
    )
    assert (row["event.dataset"], row["host.name"], row["event.action"]) == (
        "osquery",
        "srv1",
        "added",
    )
    assert row["@timestamp"] == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert (row["process.pid"], row["process.name"], row["process.command_line"]) == (
        123,
        "nc",
        "nc -l 4444",
    )
    assert row["fields"]["cmdline"] == "nc -l 4444"
    assert row["fields"]["query"] == "pack_incident_processes"


def test_sysmon_for_linux_xml_in_syslog() -> None:
    row = parse(
        b'Oct 11 21:48:53 ubuntu sysmon: <Event><System><Provider Name="Linux-Sysmon" '
        b'Guid="{ff032593}"/><EventID>1</EventID><Version>5</Version><Level>4</Level>'
        b'<TimeCreated SystemTime="2021-10-11T21:48:53.712000000Z"/><EventRecordID>14'
        b"</EventRecordID><Channel>Linux-Sysmon/Operational</Channel><Computer>ubuntu</Computer>"
        b'<Security UserId="0"/></System><EventData><Data Name="ProcessId">3047</Data>'
        b'<Data Name="Image">/usr/bin/whoami</Data><Data Name="CommandLine">whoami</Data>'
        b'<Data Name="User">root</Data></EventData></Event>'
    )
    assert (row["event.dataset"], row["event.code"], row["host.name"]) == (
        "linux.sysmon",
        "1",
        "ubuntu",
    )
    assert row["@timestamp"] == datetime(2021, 10, 11, 21, 48, 53, 712000, tzinfo=UTC)
    assert (row["process.executable"], row["process.pid"]) == ("/usr/bin/whoami", 3047)
    assert row["user.name"] == "root"
    assert row["fields"]["Image"] == "/usr/bin/whoami"


def test_xml_entities_are_refused() -> None:
    data = b'<!DOCTYPE x [<!ENTITY a "b">]><Event><System>Linux-Sysmon</System></Event>'
    _, failures = Normaliser(builtin_parsers()).normalise([RawRecord(data, format="sysmon-linux")])
    assert "XML" in failures[0].reason


def test_netlogon_line_names_computer_address_and_account() -> None:
    row = parse(
        b"09/14 12:33:07 [SESSION] [3352] Domain01: NetrServerAuthenticate entered: DC01 "
        b"(172.16.66.37) on account DC01$ (Negot: 212fffff)",
        received_at=datetime(2020, 9, 20, tzinfo=UTC),
    )
    assert row["@timestamp"] == datetime(2020, 9, 14, 12, 33, 7, tzinfo=UTC)
    assert (row["source.ip"], row["user.name"], row["user.domain"]) == (
        "172.16.66.37",
        "DC01$",
        "Domain01",
    )
    assert (row["event.action"], row["process.pid"]) == ("NetrServerAuthenticate", 3352)


def test_generic_json_times_in_every_common_shape() -> None:
    offset = timezone(timedelta(hours=2))
    expected = datetime(2024, 3, 1, 10, 0, tzinfo=offset).astimezone(UTC)
    shapes = [
        b'{"@timestamp": "2024-03-01T08:00:00Z"}',
        b'{"timestamp": "2024-03-01T10:00:00+02:00"}',
        b'{"time": "2024-03-01 08:00:00"}',
        b'{"ts": 1709280000}',
        b'{"ts": 1709280000000}',
        b'{"date": "2024-03-01T08:00:00.000000001Z"}',
    ]
    for data in shapes:
        assert parse(data)["@timestamp"] == expected, data


def test_json_core_columns_are_typed_and_bounded() -> None:
    row = parse(b'{"source.port": 99999999999, "process.pid": "12", "destination.port": "x"}')
    assert (row["source.port"], row["process.pid"], row["destination.port"]) == (None, 12, None)
    assert row["fields"]["source.port"] == "99999999999"


def test_unreadable_json_time_is_quarantined_not_guessed() -> None:
    batch, failures = Normaliser(builtin_parsers()).normalise(
        [RawRecord(b'{"timestamp": "2024-13-45T99:00:00Z"}'), RawRecord(b'{"a": 1}')]
    )
    assert batch.num_rows == 1
    assert failures[0].reason.startswith("unreadable time")
