"""How the process runs: `Settings`, loaded once (in the CLI or the app factory) and passed down."""

from __future__ import annotations

from pathlib import Path

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
