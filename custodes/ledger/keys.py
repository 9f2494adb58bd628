"""Ed25519 signing keys for tree heads, kept under `<data_dir>/keys/ledger/`, never in the lake.

    keys/ledger/<key_id>.pub   every public key ever used (PEM), so old heads stay verifiable
    keys/ledger/<key_id>.key   the current private key (PEM, mode 0600); retired ones are deleted
    keys/ledger/current        the id of the key that signs new heads

A key id is the first 16 hex digits of SHA-256 over the key's 32 raw public bytes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from custodes.errors import LedgerError

KEYS_DIR = Path("keys") / "ledger"
CURRENT = "current"


def raw_public_bytes(key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id_of(key: Ed25519PublicKey) -> str:
    """The id of a public key (first 16 hex digits of SHA-256 of its raw bytes)."""
    return hashlib.sha256(raw_public_bytes(key)).hexdigest()[:16]


def _write_private(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(descriptor, data)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(temporary, path)


class KeyRing:
    """The signing key and every public key the ledger has used, by key id."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> KeyRing:
        """The key ring of a data directory."""
        return cls(data_dir / KEYS_DIR)

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every public key kept, by key id."""
        keys: dict[str, Ed25519PublicKey] = {}
        if not self.directory.is_dir():
            return keys
        for path in sorted(self.directory.glob("*.pub")):
            try:
                key = load_pem_public_key(path.read_bytes())
            except ValueError:
                continue  # a damaged key file verifies nothing; heads signed with it show as forged
            if isinstance(key, Ed25519PublicKey) and key_id_of(key) == path.stem:
                keys[path.stem] = key
        return keys

    def current_id(self) -> str | None:
        """The id of the signing key, or None before the first key exists."""
        path = self.directory / CURRENT
        return path.read_text().strip() if path.exists() else None

    def signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        """The current signing key, created on first use."""
        current = self.current_id()
        if current is None:
            return self.rotate()
        path = self.directory / f"{current}.key"
        try:
            key = load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError) as error:
            raise LedgerError(f"cannot read the ledger signing key {path}: {error}") from error
        if not isinstance(key, Ed25519PrivateKey) or key_id_of(key.public_key()) != current:
            raise LedgerError(f"{path} is not the Ed25519 key {current}")
        return current, key

    def rotate(self) -> tuple[str, Ed25519PrivateKey]:
        """Make a new signing key current; the old private key is deleted, its public key kept."""
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        retired = self.current_id()
        key = Ed25519PrivateKey.generate()
        new_id = key_id_of(key.public_key())
        public_pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        (self.directory / f"{new_id}.pub").write_bytes(public_pem)
        private_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        _write_private(self.directory / f"{new_id}.key", private_pem)
        _write_private(self.directory / CURRENT, f"{new_id}\n".encode())
        if retired is not None and retired != new_id:
            (self.directory / f"{retired}.key").unlink(missing_ok=True)
        return new_id, key
