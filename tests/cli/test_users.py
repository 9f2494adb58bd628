"""`custodes users` and `custodes tokens` as an administrator runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from custodes.cli.main import app
from custodes.store.control import open_control
from custodes.store.users import AuthenticationFailed, Role, authenticate, verify_token

runner = CliRunner()


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def test_users_add_then_sign_in(data_dir: Path) -> None:
    code, out, _ = run(
        "users",
        "add",
        "ann",
        "--role",
        "analyst",
        "--data-dir",
        str(data_dir),
        "--password-stdin",
        input="a long passphrase\n",
    )
    assert code == 0, out
    assert "added user ann with role analyst" in out
    with open_control(data_dir) as control:
        assert authenticate(control, "ann", "a long passphrase").role is Role.ANALYST
    code, out, _ = run("users", "list", "--data-dir", str(data_dir))
    assert code == 0 and "ann" in out and "analyst" in out
    code, _, _ = run("users", "disable", "ann", "--data-dir", str(data_dir))
    assert code == 0
    with open_control(data_dir) as control, pytest.raises(AuthenticationFailed):
        authenticate(control, "ann", "a long passphrase")


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("--role", "boss"), "a long passphrase\n", "unknown role 'boss'"),
        (("--role", "ingest"), "a long passphrase\n", "custodes tokens create --role ingest"),
        (("--role", "admin"), "short\n", "at least 8 characters"),
    ],
)
def test_users_add_refuses_mistakes_in_one_line(
    data_dir: Path, args: tuple[str, ...], stdin: str, message: str
) -> None:
    code, _, err = run(
        "users", "add", "bob", *args, "--data-dir", str(data_dir), "--password-stdin", input=stdin
    )
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_duplicate_user_is_a_clear_error(data_dir: Path) -> None:
    for expected in (0, 2):
        code, _, err = run(
            "users",
            "add",
            "cy",
            "--role",
            "oversight",
            "--data-dir",
            str(data_dir),
            "--password-stdin",
            input="a long passphrase\n",
        )
        assert code == expected
    assert "user 'cy' already exists" in err


def test_tokens_create_prints_the_secret_once_and_revoke_stops_it(data_dir: Path) -> None:
    code, out, err = run(
        "tokens",
        "create",
        "--role",
        "ingest",
        "--name",
        "fluent-bit",
        "--expires",
        "90d",
        "--data-dir",
        str(data_dir),
    )
    assert code == 0, err
    secret = out.strip()
    assert secret.startswith("ctk_") and "shown only once" in err
    with open_control(data_dir) as control:
        user = verify_token(control, secret)
    assert (user.name, user.role) == ("fluent-bit", Role.INGEST)
    code, out, _ = run("tokens", "list", "--data-dir", str(data_dir))
    assert "fluent-bit" in out and secret not in out
    token_id = err.split()[1]
    assert run("tokens", "revoke", token_id, "--data-dir", str(data_dir))[0] == 0
    with open_control(data_dir) as control, pytest.raises(AuthenticationFailed):
        verify_token(control, secret)
    assert (
        run(
            "tokens", "create", "--role", "ingest", "--expires", "soon", "--data-dir", str(data_dir)
        )[0]
        == 2
    )
