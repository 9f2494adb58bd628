"""Reconstruction: timelines of linked events in steps, process trees, logon sessions, graphs."""

from custodes.investigate.graph import build_graph
from custodes.investigate.process_tree import ProcessNode, build_process_trees, roots, tree_dict
from custodes.investigate.sessions import LogonSession, build_sessions
from custodes.investigate.steps import Step, group_steps
from custodes.investigate.timeline import Seed, Timeline, build_timeline, parse_window

__all__ = [
    "LogonSession",
    "ProcessNode",
    "Seed",
    "Step",
    "Timeline",
    "build_graph",
    "build_process_trees",
    "build_sessions",
    "build_timeline",
    "group_steps",
    "parse_window",
    "roots",
    "tree_dict",
]
