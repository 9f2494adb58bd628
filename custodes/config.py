"""How the process runs: `Settings`, loaded once (in the CLI or the app factory) and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Process settings, from `CUSTODES_*` environment variables.

    >>> Settings(data_dir=Path("/srv/custodes")).data_dir
    PosixPath('/srv/custodes')
    """

    model_config = SettingsConfigDict(env_prefix="CUSTODES_")

    data_dir: Path = Path("custodes-data")
    batch_max_events: int = 5000
    batch_timeout_secs: float = 1.0
    #: SQLAlchemy URL of the control database (`postgresql+psycopg://user:pw@host/db`);
    #: None: `sqlite:///<data_dir>/control.db`.
    control_url: str | None = None
    #: Seconds after a start that follows a crash during which a batch the WAL replay stored
    #: and its sender resends (its "ok" was lost) is dropped as `duplicate_resend`.
    resend_grace_secs: float = 300.0
    #: This ingest node's name, in its lake segment names (`<node>-<seq>.parquet`): unique per
    #: writer when several nodes share one lake (docs/scale.md).
    node: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,40}$")] = "node0"
    #: The lowest Sigma rule level that raises alerts (informational, low, medium, high,
    #: critical); rules below it only feed correlations and hunts asked for them. Checked where
    #: it is used, by custodes.detect.levels (docs/detect.md, "Alert levels").
    alert_min_level: str = "low"
