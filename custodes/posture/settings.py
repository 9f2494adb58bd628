"""Posture settings: thresholds, countries, working hours (`posture:` in custodes.yaml).

```yaml
posture:
  allowed_countries: [US, CA, GB, FR, DE, BE, JP]
  dormant_after_days: 90
  device_silent_after_days: 14
  minimum_os_versions: {iOS: "17.5", Android: "14"}
```
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from custodes.errors import ConfigError


class SourceFiles(BaseModel):
    """Exports re-imported before every run (when a path is set): the schedule's refresh."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    roster: Path | None = None
    accounts: Path | None = None
    privileged: Path | None = None
    devices: Path | None = None
    travel: Path | None = None
    linux_groups: Path | None = None


class PostureSettings(BaseModel):
    """What the posture checks accept; every threshold in days or hours, every name exact."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allowed_countries: tuple[str, ...] = ("US",)
    home_country: str | None = None  # default: the first allowed country
    dormant_after_days: Annotated[int, Field(gt=0)] = 90
    device_silent_after_days: Annotated[int, Field(gt=0)] = 14
    minimum_os_versions: dict[str, str] = {"iOS": "17.5", "Android": "14"}
    minimum_patch_level: date | None = None
    lookback_days: Annotated[int, Field(gt=0)] = 30
    working_hours_start: Annotated[int, Field(ge=0, le=23)] = 7
    working_hours_end: Annotated[int, Field(ge=1, le=24)] = 19
    weekend_days: tuple[int, ...] = (5, 6)  # Monday is 0
    holidays: tuple[date, ...] = ()
    usual_hour_min_days: Annotated[int, Field(gt=0)] = 3
    unusual_host_min_logons: Annotated[int, Field(gt=0)] = 20
    unusual_host_history_days: Annotated[int, Field(gt=0)] = 14
    privileged_groups: tuple[str, ...] = (
        "Domain Admins",
        "Enterprise Admins",
        "Schema Admins",
        "Administrators",
    )
    linux_privileged_groups: tuple[str, ...] = ("sudo", "wheel", "admin")
    shared_admin_accounts: tuple[str, ...] = ("Administrator", "root", "admin")
    sources: SourceFiles = SourceFiles()

    @property
    def home(self) -> str | None:
        """The home country (abroad is anywhere else)."""
        if self.home_country:
            return self.home_country.upper()
        return self.allowed_countries[0].upper() if self.allowed_countries else None


def parse_posture_settings(document: object, *, path: str = "custodes.yaml") -> PostureSettings:
    """Settings from the parsed `posture:` mapping; ConfigError naming the bad key."""
    if document is None:
        return PostureSettings()
    try:
        return PostureSettings.model_validate(document)
    except ValidationError as error:
        problem = error.errors()[0]
        key = "posture." + ".".join(str(part) for part in problem["loc"])
        message = "unknown key" if problem["type"] == "extra_forbidden" else problem["msg"]
        raise ConfigError(f"{path}: {key}: {message}", path=path, key=key) from None


def load_posture_settings(path: Path | None) -> PostureSettings:
    """The `posture:` section of custodes.yaml (defaults when there is no file or section)."""
    if path is None:
        return PostureSettings()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}", path=str(path)) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}", path=str(path)) from None
    section = document.get("posture") if isinstance(document, dict) else None
    return parse_posture_settings(section, path=str(path))
