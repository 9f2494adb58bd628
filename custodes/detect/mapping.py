"""Our field-mapping pipeline (detect/fields.yaml): Sigma logsources and field names -> columns."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from custodes.errors import ConfigError

MAPPING_PATH = Path(__file__).with_name("fields.yaml")

#: One alternative of a logsource condition: column -> accepted values
#: (lowercase; "x*" is a prefix, "*" means present).
Alternative = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Logsource:
    """Which events a group of rules may match, and where its Sigma fields live."""

    name: str
    match: tuple[tuple[str, str], ...]
    when: tuple[Alternative, ...]
    fields: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False, compare=False)
    spaced_names: bool = False  # e.g. Defender: Sigma's ThreatName is the event's "Threat Name"

    def sources(self, sigma_field: str, defaults: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
        """Where a Sigma field's value is read from, first present wins."""
        found = self.fields.get(sigma_field) or defaults.get(sigma_field) or (sigma_field,)
        if self.spaced_names:
            spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", sigma_field)
            if spaced != sigma_field and spaced not in found:
                found = (*found, spaced)
        return found


@dataclass(frozen=True)
class Mapping:
    """All logsources of fields.yaml and the default field sources."""

    logsources: tuple[Logsource, ...]
    default_fields: dict[str, tuple[str, ...]]

    def logsource_for(
        self, product: str | None, category: str | None, service: str | None
    ) -> Logsource:
        """The most specific logsource entry whose `match` keys all equal the rule's."""
        given = {"product": product, "category": category, "service": service}
        best: Logsource | None = None
        for candidate in self.logsources:
            if all(given.get(key) == value for key, value in candidate.match) and (
                best is None or len(candidate.match) > len(best.match)
            ):
                best = candidate
        if best is None:
            raise ConfigError("fields.yaml has no entry matching every logsource (add `generic`)")
        if not best.match and product:
            # A product we have no entry for: its events, told by event.module or event.dataset.
            name = product.lower()
            when = ((("event.module", (name,)),), (("event.dataset", (name, f"{name}.*")),))
            return Logsource(f"{best.name}:{name}", (("product", product),), when, best.fields)
        return best


def strings(value: Any) -> tuple[str, ...]:
    """A YAML string or list of strings as a tuple."""
    return tuple(str(item) for item in value) if isinstance(value, list) else (str(value),)


@cache
def load_mapping(path: Path = MAPPING_PATH) -> Mapping:
    """Read and check a fields.yaml mapping."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = document["logsources"]
        logsources = tuple(
            Logsource(
                name=name,
                match=tuple(sorted((str(k), str(v)) for k, v in entry.get("match", {}).items())),
                when=tuple(
                    tuple(
                        sorted(
                            (str(col), tuple(v.lower() for v in strings(values)))
                            for col, values in alternative.items()
                        )
                    )
                    for alternative in entry.get("when", [{}])
                ),
                fields={str(k): strings(v) for k, v in (entry.get("fields") or {}).items()},
                spaced_names=bool(entry.get("spaced_names", False)),
            )
            for name, entry in entries.items()
        )
        defaults = {str(k): strings(v) for k, v in (document.get("default_fields") or {}).items()}
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as error:
        raise ConfigError(f"bad field mapping: {error}", path=str(path)) from None
    return Mapping(logsources, defaults)
