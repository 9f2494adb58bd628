"""Users and API tokens in the control database, and their migration (0002)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from custodes.errors import NotFound
from custodes.store.control import alembic_config, migrate, open_control
from custodes.store.users import (
    AuthenticationFailed,
    InvalidUser,
    Role,
    add_user,
    create_token,
    list_tokens,
    revoke_token,
    verify_token,
)


def test_token_expiry_is_exact_and_last_use_is_recorded(data_dir: Path) -> None:
    expires_at = datetime(2026, 6, 1, tzinfo=UTC)
    with open_control(data_dir) as control:
        secret, info = create_token(control, Role.INGEST, name="beats", expires_at=expires_at)
        assert (
            verify_token(control, secret, now=expires_at - timedelta(microseconds=1)).name
            == "beats"
        )
        with pytest.raises(AuthenticationFailed, match="expired"):
            verify_token(control, secret, now=expires_at)
        assert [token.name for token in list_tokens(control)] == ["beats"]
        assert "hash" not in str(list_tokens(control)[0].to_dict())
        with pytest.raises(NotFound):
            revoke_token(control, info.id + 1)


def test_last_use_is_written_at_most_once_a_minute(data_dir: Path) -> None:
    first = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    with open_control(data_dir) as control:
        secret, _ = create_token(control, Role.INGEST, name="beats")

        def last_used_at() -> datetime | None:
            [token] = list_tokens(control)
            return token.last_used_at

        assert last_used_at() is None
        verify_token(control, secret, now=first)
        assert last_used_at() == first
        for seconds in (1, 30, 59):  # a shipper's many requests: no write each time
            verify_token(control, secret, now=first + timedelta(seconds=seconds))
            assert last_used_at() == first
        later = first + timedelta(minutes=2)
        verify_token(control, secret, now=later)
        assert last_used_at() == later


def test_tokens_and_users_refuse_unknown_roles(data_dir: Path) -> None:
    with open_control(data_dir) as control:
        with pytest.raises(InvalidUser, match="unknown role 'root'"):
            create_token(control, "root")
        with pytest.raises(InvalidUser, match="needs a name and a password"):
            add_user(control, "", "x", Role.ADMIN)
        with pytest.raises(NotFound):
            create_token(control, Role.ANALYST, user="nobody")


def test_migration_0002_goes_down_to_0001_and_up_again(data_dir: Path) -> None:
    with open_control(data_dir) as control:
        add_user(control, "ann", "long enough", Role.ANALYST)
        config = alembic_config()
        with control.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")
        with control.engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
        assert "users" not in tables and "api_tokens" not in tables and "alerts" in tables
        migrate(control.engine, "head")
        with control.engine.connect() as connection:
            assert {"users", "api_tokens"} <= set(sa.inspect(connection).get_table_names())
