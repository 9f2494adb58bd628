"""Evidence packages: they verify standalone, and any changed byte of an event or proof fails."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from custodes.errors import LedgerError, NotFound
from custodes.ledger import KeyRing, export_evidence
from custodes.ledger.verify_package import EVENTS, MANIFEST, PackageError, main, verify

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "custodes" / "ledger" / "verify_package.py"


def some_event_ids(store: Path, count: int) -> list[str]:
    lines = (store / "ledger" / "files.jsonl").read_text().splitlines()
    path = json.loads(lines[len(lines) // 2])["path"]
    ids: list[str] = pq.read_table(store / path).column("event.id").to_pylist()
    return ids[:count]


def members(package: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(package) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(contents: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def package(store: Path, tmp_path: Path) -> Path:
    out = tmp_path / "evidence.zip"
    summary = export_evidence(store, out, event_ids=some_event_ids(store, 2))
    assert summary.events == 2 and summary.tree_size == 1200
    return out


def test_exported_package_verifies(package: Path, store: Path) -> None:
    assert verify(str(package)).startswith("2 event(s) proved in tree 1200")
    key_id = KeyRing.for_data_dir(store).current_id()
    assert main([str(package), "--key-id", str(key_id)]) == 0
    assert main([str(package), "--key-id", "0" * 16]) == 1


def test_package_holds_events_as_stored(package: Path, store: Path) -> None:
    events = [json.loads(line) for line in members(package)[EVENTS].splitlines()]
    manifest = json.loads(members(package)[MANIFEST])
    assert [event["event.id"] for event in events] == some_event_ids(store, 2)
    assert [item["event_id"] for item in manifest["events"]] == some_event_ids(store, 2)
    assert events[0]["@timestamp"].endswith("Z") and events[0]["fields"][0][0] == "@timestamp"
    assert manifest["columns"]["source.port"] == "integer"


@pytest.mark.parametrize("member", [EVENTS, MANIFEST])
def test_changing_any_byte_fails(package: Path, tmp_path: Path, member: str) -> None:
    contents = members(package)
    original = contents[member]
    target = tmp_path / "changed.zip"
    for position in range(len(original)):
        for replacement in {original[position] ^ 1, ord("0") if original[position] != 48 else 49}:
            changed = bytearray(original)
            changed[position] = replacement
            target.write_bytes(rezip({**contents, member: bytes(changed)}))
            with pytest.raises(PackageError):
                verify(str(target))


def test_a_flipped_byte_in_the_zip_fails_unless_the_contents_are_unchanged(
    package: Path, tmp_path: Path
) -> None:
    """Zip headers and deflate padding carry no evidence: a flip there may pass, any other not."""
    data = package.read_bytes()
    original = members(package)
    target = tmp_path / "flipped.zip"
    for position in range(len(data)):
        changed = bytearray(data)
        changed[position] ^= 0x20
        target.write_bytes(bytes(changed))
        try:
            verify(str(target))
        except PackageError:
            continue
        assert members(target) == original, f"byte {position} changed the contents unnoticed"


def test_the_verifier_needs_only_the_standard_library_and_cryptography(
    package: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "verify_package.py"
    shutil.copy(VERIFIER, copy)
    guard = (
        "import sys, runpy\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('custodes', 'pyarrow', 'numpy', 'duckdb'):\n"
        "            raise ImportError('standalone verifier imported ' + name)\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "sys.argv = [sys.argv[1], sys.argv[2]]\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", guard, str(copy), str(package)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 2 event(s) proved")


def test_python_m_entry_point_loads_no_pyarrow(package: Path) -> None:
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['verify_package', sys.argv[1]]\n"
        "try:\n"
        "    runpy.run_module('custodes.ledger.verify_package', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('pyarrow', 'numpy')]\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", probe, str(package)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr


def test_export_refuses_an_event_that_no_longer_matches(store: Path, tmp_path: Path) -> None:
    event_id = some_event_ids(store, 1)[0]
    lines = (store / "ledger" / "files.jsonl").read_text().splitlines()
    path = store / json.loads(lines[len(lines) // 2])["path"]
    table = pq.read_table(path)
    messages = table.column("message").to_pylist()
    messages[0] = "rewritten"
    index = table.schema.get_field_index("message")
    pq.write_table(table.set_column(index, "message", [messages]), path)
    with pytest.raises(LedgerError, match="does not match the ledger"):
        export_evidence(store, tmp_path / "x.zip", event_ids=[event_id])


def test_export_by_where_and_unknown_ids(store: Path, tmp_path: Path) -> None:
    summary = export_evidence(store, tmp_path / "w.zip", where="host.name = 'ws-3'", limit=5)
    assert summary.events == 5
    assert verify(str(tmp_path / "w.zip")).startswith("5 event(s)")
    with pytest.raises(NotFound):
        export_evidence(store, tmp_path / "n.zip", event_ids=["0" * 32])
