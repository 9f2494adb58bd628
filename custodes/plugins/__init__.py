"""One plugin system (pluggy): hook specifications and the loader."""

from custodes.plugins.hookspecs import hookimpl, hookspec
from custodes.plugins.manager import Registry, load, plugin_manager

__all__ = ["Registry", "hookimpl", "hookspec", "load", "plugin_manager"]
