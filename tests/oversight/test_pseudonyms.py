"""Pseudonyms: stable per person across spellings and columns; free text and fields masked."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from custodes.oversight import Door, EventQuery, is_pseudonym
from custodes.oversight.policy import load_policy
from custodes.oversight.pseudonyms import Pseudonymiser, Roster
from tests.oversight.conftest import ANALYST, PEOPLE


def masker(data_dir: Path) -> Pseudonymiser:
    return Pseudonymiser.for_data_dir(data_dir, load_policy(data_dir).identifiers)


def test_same_person_gets_the_same_pseudonym_whatever_the_spelling(data_dir: Path) -> None:
    pseudonyms = masker(data_dir)
    spellings = ["jsmith", "AGENCY\\jsmith", "JSmith", "john.smith@agency.gov", "John Smith"]
    aliases = {pseudonyms.pseudonym(name) for name in spellings}
    assert len(aliases) == 1
    assert is_pseudonym(aliases.pop())
    assert pseudonyms.pseudonym("jsmith") != pseudonyms.pseudonym("mgarcia")


def test_pseudonyms_are_keyed_per_data_directory(data_dir: Path, tmp_path: Path) -> None:
    other = Pseudonymiser.for_data_dir(tmp_path / "other", load_policy(data_dir).identifiers)
    assert masker(data_dir).pseudonym("jsmith") != other.pseudonym("jsmith")
    assert masker(data_dir).pseudonym("jsmith") == masker(data_dir).pseudonym("jsmith")
    assert (data_dir / "keys" / "pseudonym.key").stat().st_mode & 0o777 == 0o600


def test_masking_leaves_no_name_in_any_column(door: Door) -> None:
    table = door.read(ANALYST, "security-monitoring", EventQuery(limit=100)).table
    text = str(table.to_pylist()).lower()
    for name in (*PEOPLE, "john", "maria"):
        assert name not in text
    users = set(table.column("user.name").to_pylist())
    assert len(users) == 3 and all(is_pseudonym(user) for user in users)


def test_free_text_and_fields_carry_the_column_pseudonym(door: Door) -> None:
    table = door.read(ANALYST, "security-monitoring", EventQuery(limit=100)).table
    for row in table.to_pylist():
        alias = row["user.name"]
        assert alias in row["process.command_line"]
        assert row["message"].startswith(alias)
        assert dict(row["fields"])["TargetUserName"] == alias


def test_system_accounts_and_machines_stay_readable(data_dir: Path) -> None:
    table = pa.table({"user.name": ["SYSTEM", "WS-00001$", "-", "jsmith", None]})
    masked = masker(data_dir).mask(table).table.column("user.name").to_pylist()
    assert masked[:3] == ["SYSTEM", "WS-00001$", "-"]
    assert is_pseudonym(masked[3]) and masked[4] is None


def test_revealed_person_is_shown_and_the_others_stay_masked(data_dir: Path) -> None:
    pseudonyms = masker(data_dir)
    table = pa.table({"user.name": ["jsmith", "mgarcia"], "message": ["jsmith and mgarcia", "x"]})
    result = pseudonyms.mask(table, frozenset({pseudonyms.pseudonym("jsmith")}))
    assert result.table.column("user.name").to_pylist()[0] == "jsmith"
    assert is_pseudonym(result.table.column("user.name").to_pylist()[1])
    message = result.table.column("message").to_pylist()[0]
    assert message.startswith("jsmith and usr-")
    assert result.revealed == {pseudonyms.pseudonym("jsmith")}


def test_roster_names_are_found_in_text_without_an_identifier_column(data_dir: Path) -> None:
    table = pa.table({"message": ["mail from maria.garcia@agency.gov to Tam Nguyen"]})
    masked = masker(data_dir).mask(table).table.column("message").to_pylist()[0]
    assert "garcia" not in masked.lower() and "nguyen" not in masked.lower()
    assert masked.count("usr-") == 2


def test_roster_loads_accounts_emails_and_full_names(data_dir: Path) -> None:
    roster = Roster.load(data_dir)
    assert roster.identity("maria.garcia@agency.gov") == roster.identity("mgarcia")
    assert roster.identity("Maria Garcia") == "person:E2"
    assert roster.identity("stranger") == "account:stranger"


def test_raw_records_are_withheld_without_a_case_and_masked_with_one(door: Door) -> None:
    plain = door.read(ANALYST, "security-monitoring", EventQuery(limit=5)).table
    assert plain.column("event.original").null_count == 5
    in_case = door.read(ANALYST, "investigation", EventQuery(limit=5), "C-1").table
    originals = in_case.column("event.original").to_pylist()
    assert all(text and "usr-" in text for text in originals)
    assert not any(name in text for text in originals for name in PEOPLE)


def test_overlapping_names_are_read_left_to_right_longest_first(data_dir: Path) -> None:
    pseudonyms = masker(data_dir)
    table = pa.table({"message": ["to john.smith@agency.gov, cc jsmith; John Smith signed"]})
    masked = pseudonyms.mask(table).table.column("message").to_pylist()[0]
    alias = pseudonyms.pseudonym("jsmith")
    assert masked == f"to {alias}, cc {alias}; {alias} signed"


def test_leftmost_longest_keeps_a_match_after_a_straddling_one() -> None:
    import numpy as np

    from custodes.oversight.masking import leftmost_longest

    starts, ends = np.array([0, 3, 7]), np.array([5, 10, 9])  # [0,5) kept, [3,10) dropped
    kept = leftmost_longest(starts, ends, np.array([0, 1, 2]))
    assert kept[2].tolist() == [0, 2]


def test_the_roster_posture_imports_is_the_one_the_door_reads(tmp_path: Path) -> None:
    from custodes.posture.reference import ImportRequest, import_reference

    roster = tmp_path / "roster.csv"
    roster.write_text(
        "employee_id,first_name,last_name,email,account,department,title,status\n"
        "E9,Ada,Quist,ada.quist@agency.gov,aquist,IT,Engineer,active\n"
    )
    import_reference(tmp_path / "data", ImportRequest(roster=roster))
    known = Roster.load(tmp_path / "data")
    assert known.identity("ada.quist@agency.gov") == "person:E9"
    assert known.identity("AGENCY\\aquist") == "person:E9"
    assert known.identity("Ada Quist") == "person:E9"


def test_a_source_field_named_like_a_withheld_column_is_withheld_too(data_dir: Path) -> None:
    raw = '{"user": "jsmith", "note": "the whole record"}'
    fields = pa.array(
        [[("event.original", raw), ("host.name", "ws-1")]], pa.map_(pa.string(), pa.string())
    )
    table = pa.table({"event.original": pa.array([raw]), "fields": fields})
    masked = masker(data_dir).mask(table, withhold=True).table
    assert masked.column("event.original").to_pylist() == [None]
    assert masked.column("fields").to_pylist() == [
        [("event.original", None), ("host.name", "ws-1")]
    ]
    kept = masker(data_dir).mask(table).table.column("fields").to_pylist()[0]
    assert kept[0][1] is not None and "jsmith" not in kept[0][1]  # masked, not withheld
