"""People and API clients: users with argon2 password hashes, API tokens stored hashed, roles.

A token is shown once when created (`ctk_<random>`); only its SHA-256 is stored, which is
enough for a 256-bit random secret (argon2 is for passwords people choose). Every check returns
a `User`, the frozen value the API and the web UI pass down to say who is asking.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ForeignKey, Index, Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from custodes.errors import CustodesError, NotFound
from custodes.store.control import Base, Control

TOKEN_PREFIX = "ctk_"
LAST_USED_RESOLUTION = timedelta(minutes=1)
_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (argon2-cffi's defaults)


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a wrong name costs as much as a wrong
    password; made on first use, as hashing is deliberately slow."""
    return _hasher.hash("custodes-no-such-user")


class Role(StrEnum):
    """What an actor may do; every API route and page names the roles it admits."""

    ANALYST = "analyst"
    INVESTIGATOR = "investigator"
    OVERSIGHT = "oversight"
    ADMIN = "admin"
    INGEST = "ingest"


class AuthenticationFailed(CustodesError):
    """Wrong name or password, or an unknown, expired or revoked token."""

    status = 401


class InvalidUser(CustodesError):
    """A user or token request is malformed (unknown role, empty name or password)."""

    status = 400


class UserExists(CustodesError):
    """A user of that name already exists."""

    status = 409


class UserRow(Base):
    """A person who signs in to the web UI or the API."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    role: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]


class ApiTokenRow(Base):
    """An API token: its SHA-256, its role, and when it expires or was revoked."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"),)


@dataclass(frozen=True, slots=True)
class User:
    """Who is asking: a signed-in user or an API token, with its role."""

    name: str
    role: Role
    kind: str = "user"  # "user" or "token"

    def to_dict(self) -> dict[str, str]:
        """Plain data for JSON."""
        return {"name": self.name, "role": self.role.value, "kind": self.kind}


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What may be shown about a token: never the secret, never its hash."""

    id: int
    name: str
    role: Role
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = None  # to the minute (LAST_USED_RESOLUTION)

    def to_dict(self) -> dict[str, object]:
        """Plain data for JSON."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.value,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
        }


def parse_role(text: str) -> Role:
    """The role named `text`, or a clear error listing the known ones."""
    try:
        return Role(text)
    except ValueError:
        known = ", ".join(role.value for role in Role)
        raise InvalidUser(f"unknown role {text!r} (known: {known})") from None


def hash_token(token: str) -> str:
    """The stored form of a token: hex SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(control: Control, name: str, password: str, role: Role | str) -> User:
    """Create a user; the password is stored as an argon2 hash."""
    role = parse_role(str(role))
    if not name or not password:
        raise InvalidUser("a user needs a name and a password")
    row = UserRow(
        name=name,
        role=role.value,
        password_hash=_hasher.hash(password),
        created_at=datetime.now(UTC),
        disabled_at=None,
    )
    try:
        with control.session() as session:
            session.add(row)
    except IntegrityError:
        raise UserExists(f"user {name!r} already exists") from None
    return User(name=name, role=role)


def set_password(control: Control, name: str, password: str) -> None:
    """Replace a user's password."""
    with control.session() as session:
        row = session.scalars(select(UserRow).where(UserRow.name == name)).one_or_none()
        if row is None:
            raise NotFound("user", name)
        row.password_hash = _hasher.hash(password)


def disable_user(control: Control, name: str) -> None:
    """Stop a user from signing in (their sessions stop working too)."""
    with control.session() as session:
        row = session.scalars(select(UserRow).where(UserRow.name == name)).one_or_none()
        if row is None:
            raise NotFound("user", name)
        row.disabled_at = datetime.now(UTC)


def list_users(control: Control) -> list[dict[str, object]]:
    """Every user, without password hashes."""
    with control.session() as session:
        rows = session.scalars(select(UserRow).order_by(UserRow.name)).all()
        return [
            {
                "name": row.name,
                "role": row.role,
                "created_at": row.created_at.isoformat(),
                "is_disabled": row.disabled_at is not None,
            }
            for row in rows
        ]


def authenticate(control: Control, name: str, password: str) -> User:
    """The user `name` if `password` is theirs and they are enabled; else AuthenticationFailed."""
    with control.session() as session:
        row = session.scalars(select(UserRow).where(UserRow.name == name)).one_or_none()
        stored = row.password_hash if row is not None else _dummy_hash()
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            raise AuthenticationFailed("wrong user name or password") from None
        if row is None or row.disabled_at is not None:
            raise AuthenticationFailed("wrong user name or password")
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = _hasher.hash(password)
        return User(name=row.name, role=Role(row.role))


def session_stamp(password_hash: str) -> str:
    """A short digest of the password hash: a session made before a password change stops."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def user_stamp(control: Control, name: str) -> str:
    """The session stamp of user `name` as the password stands now."""
    with control.session() as session:
        row = session.scalars(select(UserRow).where(UserRow.name == name)).one_or_none()
        if row is None:
            raise NotFound("user", name)
        return session_stamp(row.password_hash)


def find_user(control: Control, name: str, *, stamp: str | None = None) -> User:
    """The enabled user a session names; AuthenticationFailed if gone, disabled, or (with
    `stamp`) their password changed since the session began."""
    with control.session() as session:
        row = session.scalars(select(UserRow).where(UserRow.name == name)).one_or_none()
        if row is None or row.disabled_at is not None:
            raise AuthenticationFailed("session no longer valid: sign in again")
        if stamp is not None and not hmac.compare_digest(stamp, session_stamp(row.password_hash)):
            raise AuthenticationFailed("password changed: sign in again")
        return User(name=row.name, role=Role(row.role))


def create_token(
    control: Control,
    role: Role | str,
    *,
    name: str = "",
    expires_at: datetime | None = None,
    user: str | None = None,
) -> tuple[str, TokenInfo]:
    """A new API token: the secret (shown once) and what is stored about it."""
    role = parse_role(str(role))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with control.session() as session:
        user_id = None
        if user is not None:
            user_row = session.scalars(select(UserRow).where(UserRow.name == user)).one_or_none()
            if user_row is None:
                raise NotFound("user", user)
            user_id = user_row.id
        row = ApiTokenRow(
            token_hash=hash_token(secret),
            name=name or f"{role.value}-token",
            role=role.value,
            user_id=user_id,
            created_at=now,
            expires_at=expires_at,
            revoked_at=None,
            last_used_at=None,
        )
        session.add(row)
        session.flush()
        info = _token_info(row)
    return secret, info


def verify_token(control: Control, secret: str, *, now: datetime | None = None) -> User:
    """The actor behind a token secret; AuthenticationFailed if unknown, expired or revoked."""
    now = now or datetime.now(UTC)
    digest = hash_token(secret)
    with control.session() as session:
        row = session.scalars(
            select(ApiTokenRow).where(ApiTokenRow.token_hash == digest)
        ).one_or_none()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            raise AuthenticationFailed("unknown API token")
        if row.revoked_at is not None:
            raise AuthenticationFailed("API token revoked")
        if row.expires_at is not None and row.expires_at <= now:
            raise AuthenticationFailed("API token expired")
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
            row.last_used_at = now  # at most once a minute: a shipper sends many requests
        return User(name=row.name, role=Role(row.role), kind="token")


def revoke_token(control: Control, token_id: int) -> None:
    """Revoke a token at once; it is kept (revoked) for the record."""
    with control.session() as session:
        row = session.get(ApiTokenRow, token_id)
        if row is None:
            raise NotFound("token", str(token_id))
        row.revoked_at = row.revoked_at or datetime.now(UTC)


def list_tokens(control: Control) -> list[TokenInfo]:
    """Every token, newest first, without secrets or hashes."""
    with control.session() as session:
        rows = session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id.desc())).all()
        return [_token_info(row) for row in rows]


def _token_info(row: ApiTokenRow) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )
