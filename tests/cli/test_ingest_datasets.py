"""`custodes ingest` over the shared EVTX attack samples: every record stored or quarantined."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from custodes.cli.main import app
from custodes.ingest import detect_format
from custodes.store import connect, stats


def test_attack_samples_every_event_stored_nothing_silently_dropped(
    datasets: Path, data_dir: Path
) -> None:
    samples = datasets / "evtx-attack-samples"
    result = CliRunner().invoke(app, ["ingest", "--data-dir", str(data_dir), str(samples)])
    assert result.exit_code == 0, result.output
    rows = {
        cells[0]: [int(cell.replace(",", "")) for cell in cells[1:]]
        for line in result.output.splitlines()
        if len(cells := [cell.strip() for cell in line.split("│")[1:-1]]) == 7
        and cells[1].replace(",", "").isdigit()
    }
    files, read, stored, quarantined, _corrupt, _done = rows["evtx"]
    assert (files, read, stored, quarantined) == (139, 3389, 3389, 0)
    for name, (_files, read, stored, quarantined, _corrupt, _done) in rows.items():
        assert read == stored + quarantined, name  # nothing read is lost
    summary = stats(data_dir)
    assert summary["events"] == rows["total"][2]
    assert summary["quarantined"] == rows["total"][3]
    connection = connect(data_dir)
    origins = {
        Path(origin).name
        for (origin,) in connection.execute("SELECT DISTINCT origin FROM quarantine").fetchall()
    }
    artefacts = [
        samples / "Command and Control" / "Tunna_rdp_tunnel_IIS.log",
        samples / "Command and Control" / "web_attack_and_isp_webshell_localhost_access_log.txt",
        samples / "Credential Access" / "etw_ad_netlogon_provider_zerologon_mimikatz.etl",
        samples / "Other" / "netlogon_log_CVE-2020-1472_ZeroLogon.txt",
    ]
    for path in artefacts:  # parsed (events stored) or quarantined, never silently dropped
        assert path.name in origins or rows[detect_format(path)][2] > 0, path.name
    empty_reasons = connection.execute("SELECT count(*) FROM quarantine WHERE reason = ''")
    assert empty_reasons.fetchone() == (0,)
    again = CliRunner().invoke(app, ["ingest", "--data-dir", str(data_dir), str(samples)])
    assert again.exit_code == 0
    assert stats(data_dir)["events"] == summary["events"]  # a rerun skips finished files
