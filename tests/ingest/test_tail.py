"""File tailing: lines appended are stored once, across rename rotation, truncation and restarts."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from custodes.ingest.tail import split_complete_lines
from tests.ingest.running import RunningService, stored


def test_complete_lines_keep_their_offsets_and_long_lines_are_cut() -> None:
    lines, used = split_complete_lines(b"one\ntwo\r\nthr", 10, 1024)
    assert lines == [(10, b"one"), (14, b"two")] and used == 9
    lines, used = split_complete_lines(b"abcdefgh\n", 0, 3)
    assert lines == [(0, b"abc"), (3, b"def"), (6, b"gh")] and used == 9


def tail_config(path: Path) -> dict[str, object]:
    return {"sources": {"app": {"type": "tail", "path": str(path), "poll_interval_secs": 0.05}}}


def wait_until(condition: Callable[[], bool], timeout_secs: float = 20) -> None:
    deadline = time.monotonic() + timeout_secs
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def append(path: Path, lines: list[str]) -> None:
    with path.open("a") as handle:
        handle.write("".join(line + "\n" for line in lines))


def line(number: int) -> str:
    return f'{{"message": "tail line {number}", "user.name": "u{number}"}}'


def stored_lines(data_dir: Path) -> list[tuple[str, str]]:
    rows = stored(data_dir).execute(
        'SELECT "event.original", "user.name" FROM events ORDER BY "user.name"'
    )
    return [(str(original), str(user)) for original, user in rows.fetchall()]


def test_tail_follows_rotation_and_truncation_and_resumes_after_restart(
    data_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "app.log"
    append(path, [line(n) for n in range(10)])
    with RunningService(data_dir, tail_config(path)) as running:

        def committed() -> int:
            counters = running.counters()["sources"]["app"]
            return int(counters["stored"] + counters["quarantined"])

        wait_until(lambda: committed() == 10)
        append(path, [line(n) for n in range(10, 20)])
        wait_until(lambda: committed() == 20)
        path.rename(tmp_path / "app.log.1")  # logrotate: rename, then a new file
        append(tmp_path / "app.log.1", [line(n) for n in range(20, 25)])  # late writes to the old
        append(path, [line(n) for n in range(25, 30)])
        wait_until(lambda: committed() == 30)
        path.write_text("")  # copytruncate
        time.sleep(0.3)
        append(path, [line(n) for n in range(30, 33)])
        wait_until(lambda: committed() == 33)
    append(path, [line(n) for n in range(33, 40)])  # written while the service is down
    with RunningService(data_dir, tail_config(path)) as running:
        wait_until(lambda: running.counters()["sources"]["app"]["stored"] == 7)
    found = stored_lines(data_dir)
    assert sorted(user for _, user in found) == sorted(f"u{n}" for n in range(40))  # once each
    assert {original for original, _ in found} == {line(n) for n in range(40)}
