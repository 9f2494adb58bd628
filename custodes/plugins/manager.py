"""Load plugins (built-in and from `custodes` entry points) into a plain `Registry`."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy

from custodes.plugins import hookspecs

#: Our own plugins register through the same hooks as outside packages.
BUILTIN_PLUGINS: tuple[str, ...] = ("custodes.normalise", "custodes.notify")


@dataclass
class Registry:
    """Everything the plugins registered, passed down to the stages that use it."""

    parsers: list[Any] = field(default_factory=list)
    sources: dict[str, Any] = field(default_factory=dict)
    rule_sources: dict[str, Any] = field(default_factory=dict)
    sinks: dict[str, Any] = field(default_factory=dict)
    detectors: list[Any] = field(default_factory=list)
    manager: pluggy.PluginManager | None = None

    def track_action(self, action: str, actor: str | None = None, **details: Any) -> None:
        """Report an action or a drop to every plugin that listens."""
        if self.manager is not None:
            self.manager.hook.track_action(action=action, actor=actor, details=details)


def plugin_manager(
    plugins: Iterable[object] = (), *, entry_points: bool = True
) -> pluggy.PluginManager:
    """A plugin manager with the built-ins, the given plugins and (optionally) installed ones."""
    manager = pluggy.PluginManager("custodes")
    manager.add_hookspecs(hookspecs)
    for name in BUILTIN_PLUGINS:
        manager.register(importlib.import_module(name), name=name)
    for plugin in plugins:
        manager.register(plugin)
    if entry_points:
        manager.load_setuptools_entrypoints("custodes")
    return manager


def load(plugins: Iterable[object] = (), *, entry_points: bool = True) -> Registry:
    """Collect what every plugin registers into a `Registry`."""
    manager = plugin_manager(plugins, entry_points=entry_points)
    hook = manager.hook
    registry = Registry(manager=manager)
    # pluggy calls the last registered first; built-ins come first in the parser order.
    for parsers in reversed(hook.register_parsers()):
        registry.parsers.extend(parsers)
    for found in reversed(hook.register_sources()):
        registry.sources.update(found)
    for found in reversed(hook.register_rule_sources()):
        registry.rule_sources.update(found)
    for found in reversed(hook.register_sinks()):
        registry.sinks.update(found)
    for detectors in reversed(hook.register_detectors()):
        registry.detectors.extend(detectors)
    return registry
