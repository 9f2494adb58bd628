"""`custodes users ...` and `custodes tokens ...`: people who sign in, API tokens for shippers."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from custodes.cli.main import app
from custodes.cli.options import DEFAULT_DATA_DIR, DataDir, fail, user_errors
from custodes.store.control import open_control
from custodes.store.suppressions import parse_expiry
from custodes.store.users import (
    Role,
    add_user,
    create_token,
    disable_user,
    list_tokens,
    list_users,
    parse_role,
    revoke_token,
    set_password,
)

users_app = typer.Typer(help="People who sign in to the web UI and the API.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens (shippers, scripts, Prometheus).", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")

ROLES = ", ".join(role.value for role in Role)
RoleOption = Annotated[str, typer.Option("--role", "-r", help=f"One of: {ROLES}.")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]
MIN_PASSWORD_CHARS = 8


def read_password(from_stdin: bool) -> str:
    """The new password: from stdin (scripts) or asked twice without echo."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD_CHARS:
        fail(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    return password


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The user's sign-in name.")],
    role: RoleOption,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user; the password is stored as an argon2 hash."""
    with user_errors():
        checked = parse_role(role)
        if checked is Role.INGEST:
            fail("ingest is for API tokens: use `custodes tokens create --role ingest`")
        password = read_password(password_stdin)
        with open_control(data_dir) as control:
            user = add_user(control, name, password, checked)
    Console().print(f"added user [bold]{user.name}[/bold] with role {user.role.value}")


@users_app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(help="The user's sign-in name.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a user's password."""
    with user_errors():
        password = read_password(password_stdin)
        with open_control(data_dir) as control:
            set_password(control, name, password)
    Console().print(f"password of {name} changed")


@users_app.command("disable")
def users_disable(
    name: Annotated[str, typer.Argument(help="The user's sign-in name.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Stop a user from signing in; their open sessions stop working too."""
    with user_errors(), open_control(data_dir) as control:
        disable_user(control, name)
    Console().print(f"user {name} disabled")


@users_app.command("list")
def users_list(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Every user with their role."""
    with user_errors(), open_control(data_dir) as control:
        rows = list_users(control)
    table = Table("name", "role", "created", "disabled")
    for row in rows:
        table.add_row(
            str(row["name"]),
            str(row["role"]),
            str(row["created_at"])[:19],
            "yes" if row["is_disabled"] else "",
        )
    Console().print(table)


@tokens_app.command("create")
def tokens_create(
    role: RoleOption,
    name: Annotated[str, typer.Option("--name", "-n", help="What the token is for.")] = "",
    expires: Annotated[
        str | None, typer.Option("--expires", help="e.g. 90d, 12h, 2027-01-31 (default: never).")
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Create an API token and print it once (only its hash is kept)."""
    with user_errors():
        expires_at = parse_expiry(expires, now=datetime.now(UTC)) if expires else None
        with open_control(data_dir) as control:
            secret, info = create_token(control, role, name=name, expires_at=expires_at)
    errors = Console(stderr=True)
    errors.print(f"token {info.id} ({info.name}, role {info.role.value}) - shown only once:")
    print(secret)


@tokens_app.command("list")
def tokens_list(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Every token: id, name, role, expiry, revocation (never the secret)."""
    with user_errors(), open_control(data_dir) as control:
        infos = list_tokens(control)
    table = Table("id", "name", "role", "created", "expires", "revoked")
    for info in infos:
        table.add_row(
            str(info.id),
            info.name,
            info.role.value,
            info.created_at.isoformat()[:19],
            info.expires_at.isoformat()[:19] if info.expires_at else "never",
            info.revoked_at.isoformat()[:19] if info.revoked_at else "",
        )
    Console().print(table)


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (see `custodes tokens list`).")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Revoke a token at once."""
    with user_errors(), open_control(data_dir) as control:
        revoke_token(control, token_id)
    Console().print(f"token {token_id} revoked")
