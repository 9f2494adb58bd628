"""Compiled rules cached on disk, keyed by the rule files and our compiler, so start-up is fast.

Parsing 3,700 Sigma rules with pySigma takes seconds; the compiled plans load in a fraction of
that. The key hashes every rule file's path and bytes, the pySigma version and the source of the
modules that shape a plan, so any change to either side compiles afresh.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from custodes.detect import compile as compile_module
from custodes.detect import mapping, rules
from custodes.detect.compile import CompiledRule, compile_rule
from custodes.detect.matcher import Matcher
from custodes.detect.rules import RuleSet, load_rules, rule_files
from custodes.errors import RuleError

#: Bump when the meaning of a cached plan changes in a way the hashed sources do not show.
CACHE_FORMAT = 1


def default_cache_dir() -> Path:
    """$CUSTODES_CACHE_DIR, else ~/.cache/custodes/rules."""
    configured = os.environ.get("CUSTODES_CACHE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "custodes" / "rules"


def compile_rules(rule_set: RuleSet) -> Matcher:
    """A matcher of every rule that compiles; load and compile errors are kept in `refused`."""
    compiled, refused = compile_all(rule_set)
    return Matcher(compiled, refused)


def compile_all(rule_set: RuleSet) -> tuple[list[CompiledRule], list[RuleError]]:
    """Plans of the rules that compile, and the errors of the rest (loading errors first)."""
    compiled: list[CompiledRule] = []
    refused = list(rule_set.errors)
    for rule in rule_set.rules:
        try:
            compiled.append(compile_rule(rule))
        except RuleError as error:
            refused.append(error)
    return compiled, refused


def cache_key(files: Sequence[Path]) -> str:
    """A hash of the rule files, pySigma's version and our compiler's source."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"{CACHE_FORMAT}:{metadata.version('pysigma')}".encode())
    for module in (compile_module, mapping, rules):
        digest.update(Path(str(module.__file__)).read_bytes())
    digest.update(mapping.MAPPING_PATH.read_bytes())
    for path in files:
        digest.update(str(path.resolve()).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_matcher(
    paths: Sequence[Path | str], *, cache_dir: Path | None = None, use_cache: bool = True
) -> Matcher:
    """The matcher for the rules under `paths`, from the on-disk cache when it is current."""
    files = rule_files(Path(p) for p in paths)
    cache_dir = cache_dir or default_cache_dir()
    cached = cache_dir / f"{cache_key(files)}.pickle"
    if use_cache and cached.is_file():
        try:
            with open(cached, "rb") as handle:
                compiled, refused = pickle.load(handle)  # our own file, written below
            return Matcher(compiled, refused)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            pass  # a damaged or outdated cache entry: compile afresh
    compiled, refused = compile_all(load_rules(paths))
    if use_cache:
        write_cache(cached, (compiled, refused))
    return Matcher(compiled, refused)


def write_cache(path: Path, plans: tuple[list[CompiledRule], list[RuleError]]) -> None:
    """Write atomically so a concurrent reader never sees half a file; failures are harmless."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        with open(partial, "wb") as handle:
            pickle.dump(plans, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)
    except OSError:
        pass
