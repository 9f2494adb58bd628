"""How to store the source's own fields: MAP vs JSON text vs promoted columns.

    python bench/fields_storage.py [--events 300000] [--runs 3]

Windows-like events: each has 12-25 source fields out of ~160 names (Sysmon, Security,
PowerShell shapes). The same events are written three ways, zstd Parquet, and read back by
DuckDB with a filter on one source field (a `LIKE` on CommandLine and an equality on EventID).
"arrow s" is reading CommandLine out of the in-memory Arrow table, as streaming detection does
on every batch. Medians of `--runs`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

SHAPES = {
    "sysmon1": [
        "UtcTime",
        "ProcessGuid",
        "ProcessId",
        "Image",
        "FileVersion",
        "Description",
        "Product",
        "Company",
        "OriginalFileName",
        "CommandLine",
        "CurrentDirectory",
        "User",
        "LogonGuid",
        "LogonId",
        "TerminalSessionId",
        "IntegrityLevel",
        "Hashes",
        "ParentProcessGuid",
        "ParentProcessId",
        "ParentImage",
        "ParentCommandLine",
    ],
    "security4624": [
        "SubjectUserSid",
        "SubjectUserName",
        "SubjectDomainName",
        "SubjectLogonId",
        "TargetUserSid",
        "TargetUserName",
        "TargetDomainName",
        "TargetLogonId",
        "LogonType",
        "LogonProcessName",
        "AuthenticationPackageName",
        "WorkstationName",
        "LogonGuid",
        "IpAddress",
        "IpPort",
        "ProcessName",
    ],
    "powershell4104": ["MessageNumber", "MessageTotal", "ScriptBlockText", "ScriptBlockId", "Path"],
}
SYSTEM = [
    "EventID",
    "Channel",
    "Provider_Name",
    "Computer",
    "Level",
    "Task",
    "Keywords",
    "EventRecordID",
]
RARE = [f"Custom{index:03d}" for index in range(120)]


def generate(count: int, seed: int = 3) -> list[dict[str, str]]:
    """Source-field dictionaries of mixed Windows event shapes."""
    chance = random.Random(seed)
    events = []
    for index in range(count):
        shape = chance.choice(list(SHAPES))
        fields = {name: f"{name.lower()}-{chance.randrange(1000)}" for name in SHAPES[shape]}
        fields |= {name: str(chance.randrange(10_000)) for name in SYSTEM}
        fields["EventID"] = {"sysmon1": "1", "security4624": "4624", "powershell4104": "4104"}[
            shape
        ]
        if shape == "sysmon1":
            fields["CommandLine"] = (
                "powershell.exe -enc SQBFAFgA" if index % 50 == 0 else f"cmd.exe /c job{index}"
            )
        for name in chance.sample(RARE, 2):
            fields[name] = "x"
        events.append(fields)
    return events


def as_map(events: list[dict[str, str]]) -> pa.Table:
    offsets, keys, values = [0], [], []
    for fields in events:
        keys.extend(fields)
        values.extend(fields.values())
        offsets.append(len(keys))
    column = pa.MapArray.from_arrays(
        pa.array(offsets, pa.int32()), pa.array(keys), pa.array(values)
    )
    return pa.table({"fields": column})


def as_json(events: list[dict[str, str]]) -> pa.Table:
    return pa.table({"fields": pa.array([orjson.dumps(fields).decode() for fields in events])})


def as_columns(events: list[dict[str, str]]) -> pa.Table:
    names = sorted({name for fields in events for name in fields})
    return pa.table({name: pa.array([fields.get(name) for fields in events]) for name in names})


def arrow_lookup(name: str, table: pa.Table) -> pa.Array:
    """One source field of an in-memory batch, as streaming detection needs it."""
    if name == "map":
        return pc.map_lookup(table["fields"], "CommandLine", "first")
    if name == "json":  # no Arrow kernel reads JSON text: parse each row
        return pa.array(
            [orjson.loads(text).get("CommandLine") for text in table["fields"].to_pylist()]
        )
    return table["CommandLine"]


LAYOUTS: dict[str, tuple[Callable[[list[dict[str, str]]], pa.Table], str, str]] = {
    "map": (as_map, "fields['CommandLine']", "fields['EventID']"),
    "json": (
        as_json,
        "json_extract_string(fields, '$.CommandLine')",
        "json_extract_string(fields, '$.EventID')",
    ),
    "columns": (as_columns, '"CommandLine"', '"EventID"'),
}


def timed(work: Callable[[], object], runs: int) -> tuple[float, object]:
    seconds, result = [], None
    for _ in range(runs):
        begin = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - begin)
    return statistics.median(seconds), result


def measure_layout(name: str, events: list[dict[str, str]], folder: Path, runs: int) -> str:
    """One result line for one layout."""
    build, command_line, event_id = LAYOUTS[name]
    table = build(events)
    path = folder / f"{name}.parquet"
    write, _ = timed(lambda: pq.write_table(table, path, compression="zstd"), runs)
    connection = duckdb.connect()
    source = f"read_parquet('{path}')"
    like_sql = f"SELECT count(*) FROM {source} WHERE {command_line} LIKE '%-enc%'"
    like, hits = timed(lambda: connection.execute(like_sql).fetchone(), runs)
    equal_sql = f"SELECT count(*) FROM {source} WHERE {event_id} = '4624'"
    equal, matches = timed(lambda: connection.execute(equal_sql).fetchone(), runs)
    lookup, _ = timed(lambda: arrow_lookup(name, table), runs)
    size = path.stat().st_size / 1e6
    return (
        f"{name:8} {table.num_columns:>7} {size:>8.1f} {write:>8.2f} {like:>7.3f}"
        f" {equal:>7.3f} {lookup:>8.3f}   (hits {hits}, {matches})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    events = generate(arguments.events)
    print(f"{arguments.events:,} events, medians of {arguments.runs} runs")
    print(
        f"{'layout':8} {'columns':>7} {'size MB':>8} {'write s':>8} {'LIKE s':>7} {'= s':>7}"
        f" {'arrow s':>8}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for name in LAYOUTS:
            print(measure_layout(name, events, Path(folder), arguments.runs))


if __name__ == "__main__":
    main()
