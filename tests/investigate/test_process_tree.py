"""Process trees and logon sessions rebuilt from the shared EVTX attack samples."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from custodes.investigate import build_graph, build_process_trees, build_sessions, roots, tree_dict
from custodes.investigate.process_tree import field_of, is_null_guid
from custodes.pipeline import import_files, open_pipeline
from custodes.store import search


@pytest.fixture(scope="module")
def attack_events(datasets: Path, tmp_path_factory: pytest.TempPathFactory) -> pa.Table:
    data_dir = tmp_path_factory.mktemp("evtx-attack")
    with open_pipeline(data_dir, detect=False) as pipeline:
        import_files(pipeline, [datasets / "evtx-attack-samples"])
    return search(data_dir, where="event.code in ('1', '4688', '4624', '4634', '4672')", limit=None)


def sysmon_creations(events: pa.Table) -> list[dict[str, object]]:
    return [
        row
        for row in events.to_pylist()
        if row["event.dataset"] == "windows.sysmon" and row["event.code"] == "1"
    ]


def test_every_sysmon_process_hangs_under_the_parent_guid_its_event_names(
    attack_events: pa.Table,
) -> None:
    creations = sysmon_creations(attack_events)
    assert len(creations) > 20
    nodes = build_process_trees(attack_events)
    for row in creations:
        guid, parent = field_of(row, "ProcessGuid"), field_of(row, "ParentProcessGuid")
        assert guid is not None and parent is not None
        node = nodes[guid]
        assert node.pid == int(str(field_of(row, "ProcessId")))
        if is_null_guid(parent):
            assert node.parent_key is None
            continue
        assert node.parent_key == parent
        assert guid in nodes[parent].children
        assert nodes[parent].pid == int(str(field_of(row, "ParentProcessId")))


def test_parents_seen_in_the_samples_are_linked_as_seen_nodes(attack_events: pa.Table) -> None:
    creations = sysmon_creations(attack_events)
    started = {field_of(row, "ProcessGuid") for row in creations}
    chained = [row for row in creations if field_of(row, "ParentProcessGuid") in started]
    assert chained, "the samples hold at least one parent and child both started"
    nodes = build_process_trees(attack_events)
    for row in chained:
        parent = nodes[str(field_of(row, "ParentProcessGuid"))]
        assert parent.is_seen and parent.event_id is not None
    deep = [tree_dict(nodes, node.key) for node in roots(nodes)]
    assert any(child["children"] for tree in deep for child in tree["children"])


def test_4688_children_hang_under_the_process_with_their_creator_pid(
    attack_events: pa.Table,
) -> None:
    nodes = build_process_trees(attack_events)
    security = [row for row in attack_events.to_pylist() if row["event.code"] == "4688"]
    assert security
    for row in security:
        key = f"{row['host.name']}|{int(str(field_of(row, 'NewProcessId')), 16)}|{row['event.id']}"
        parent = nodes[str(nodes[key].parent_key)]
        assert parent.pid == int(str(field_of(row, "ProcessId")), 16)


def test_logon_sessions_open_with_4624_and_gather_their_events(attack_events: pa.Table) -> None:
    sessions = build_sessions(attack_events)
    opened = [row for row in attack_events.to_pylist() if row["event.code"] == "4624"]
    assert len(sessions) == len(
        {(row["host.name"], field_of(row, "TargetLogonId")) for row in opened}
    )
    closed = [session for session in sessions if session.ended_at is not None]
    assert closed, "some sample sessions end with 4634"
    for session in closed:
        start, end = session.started_at, session.ended_at
        assert start is not None and end is not None and end >= start


def test_the_entity_graph_links_hosts_to_the_processes_they_ran(attack_events: pa.Table) -> None:
    graph = build_graph(attack_events)
    kinds = {node["kind"] for node in graph["nodes"]}
    assert {"host", "process"} <= kinds
    ids = {node["id"] for node in graph["nodes"]}
    ran = [edge for edge in graph["edges"] if edge["kind"] == "ran"]
    assert ran and all(edge["source"] in ids and edge["target"] in ids for edge in ran)
