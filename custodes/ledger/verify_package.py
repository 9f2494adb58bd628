"""Check an evidence package with no server and no data directory.

    python -m custodes.ledger.verify_package package.zip [--key-id ID | --public-key FILE]

Standalone on purpose: it imports only the Python standard library and `cryptography`, never
custodes or pyarrow, so an investigator can copy this one file and run it anywhere. It
re-encodes every event from its JSON (docs/ledger.md, "The encoding"), hashes it, walks its audit
path up to the root of the signed tree head, and checks the head's Ed25519 signature. A case
package (`custodes case export`) also holds the documents its manifest lists under `documents`
(SHA-256 each), signed with the head's key over `documents_message`: each is checked too.
Exit status 0 when every event is proved, 1 when anything fails, 2 when the arguments are wrong.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import sys
import zipfile
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PACKAGE_FORMAT = "custodes-evidence-v1"
MANIFEST = "manifest.json"
EVENTS = "events.jsonl"
HEAD_CONTEXT = "custodes-tree-head-v1"
DOCUMENTS_CONTEXT = "custodes-case-documents-v1"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HEX32 = re.compile(r"[0-9a-f]{64}")
COLUMN_TYPES = {"string", "integer", "timestamp", "map"}
TIMESTAMP_TEXT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


#: What zipfile raises on a damaged archive (RuntimeError covers encrypted members and, as
#: NotImplementedError, flags or compressions it does not support).
ZIP_ERRORS = (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, zlib.error)


class PackageError(Exception):
    """The package is malformed or does not prove what it claims."""


def canonical_json(value: Any) -> str:
    """The one JSON text a package may hold for a value (sorted keys, no spaces, UTF-8)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def timestamp_text(micros: int) -> str | int:
    """A timestamp as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (the integer when outside years 1-9999)."""
    try:
        moment = EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        return micros
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment.year >= 1000 else micros


def timestamp_micros(value: object) -> int:
    """Microseconds since the epoch from a rendered timestamp (see `timestamp_text`)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str) or not TIMESTAMP_TEXT.fullmatch(value):
        raise PackageError(f"malformed timestamp {value!r}")
    moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1)


def length_prefixed(data: bytes) -> bytes:
    """`<len>:<data>`, the length in decimal bytes."""
    return str(len(data)).encode() + b":" + data


def encode_value(kind: str, value: object) -> bytes:
    """Tag and rendering of one non-null value (docs/ledger.md)."""
    if kind == "string" and isinstance(value, str):
        return b"s" + length_prefixed(value.encode())
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return b"i" + length_prefixed(str(value).encode())
    if kind == "timestamp":
        return b"t" + length_prefixed(str(timestamp_micros(value)).encode())
    if kind == "map" and isinstance(value, list):
        entries = []
        for entry in value:
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
                raise PackageError("a map entry must be a [key, value] pair")
            key, item = entry
            entries.append(length_prefixed(key.encode()))
            if item is None:
                entries.append(b"n")
            elif isinstance(item, str):
                entries.append(b"s" + length_prefixed(item.encode()))
            else:
                raise PackageError("a map value must be a string or null")
        return b"m" + length_prefixed(b"".join(entries))
    raise PackageError(f"a value of type {kind} cannot be {value!r}")


def encode_event(event: dict[str, Any], columns: dict[str, str]) -> bytes:
    """The canonical encoding of one event (without the 0x00 leaf marker)."""
    parts = []
    for name in sorted(event, key=lambda column: column.encode()):
        value = event[name]
        if value is not None:
            parts.append(length_prefixed(name.encode()) + encode_value(columns[name], value))
    return b"".join(parts)


def leaf_hash(encoding: bytes) -> bytes:
    """SHA-256(0x00 || encoding)."""
    return hashlib.sha256(b"\x00" + encoding).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes:
    """The root an audit path leads to (RFC 9162 section 2.1.3.2)."""
    if not 0 <= index < size:
        raise PackageError("leaf index outside the tree")
    fn, sn, result = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            raise PackageError("audit path too long")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise PackageError("audit path too short")
    return result


def head_message(head: dict[str, Any]) -> bytes:
    """The bytes a tree head's signature covers."""
    fields = (HEAD_CONTEXT, head["tree_size"], head["root_hash"], head["timestamp"], head["key_id"])
    return "\n".join(str(field) for field in fields).encode()


def documents_message(head: dict[str, Any], documents: dict[str, str]) -> bytes:
    """The bytes a case package's `documents_signature` covers: its documents' hashes, bound
    to the tree head's root."""
    return "\n".join((DOCUMENTS_CONTEXT, head["root_hash"], canonical_json(documents))).encode()


def check_documents(
    package: zipfile.ZipFile, manifest: dict[str, Any], head: dict[str, Any]
) -> int:
    """Check a case package's documents (hash of each, signature over all); returns how many."""
    documents = manifest.get("documents")
    if documents is None:
        return 0
    if not isinstance(documents, dict) or not all(
        isinstance(h, str) and HEX32.fullmatch(h) for h in documents.values()
    ):
        raise PackageError("malformed documents list")
    for name, expected in documents.items():
        if hashlib.sha256(read_canonical(package, name)).hexdigest() != expected:
            raise PackageError(f"{name} does not match its hash in the manifest")
    raw_key = base64.b64decode(manifest["public_key"], validate=True)
    signature = base64.b64decode(manifest["documents_signature"], validate=True)
    try:
        Ed25519PublicKey.from_public_bytes(raw_key).verify(
            signature, documents_message(head, documents)
        )
    except InvalidSignature as error:
        raise PackageError("the documents' signature is not valid") from error
    return len(documents)


def key_id(raw_public_key: bytes) -> str:
    """The id of an Ed25519 public key: the first 16 hex digits of SHA-256 of its 32 raw bytes."""
    return hashlib.sha256(raw_public_key).hexdigest()[:16]


def read_canonical(package: zipfile.ZipFile, name: str) -> bytes:
    """A member's bytes; a missing member or a damaged archive is a PackageError."""
    try:
        return package.read(name)
    except KeyError as error:
        raise PackageError(f"{name} is missing") from error
    except ZIP_ERRORS as error:
        raise PackageError(f"{name} is damaged: {error}") from error


def parse_canonical(text: bytes, what: str) -> Any:
    """Parse JSON that must already be in canonical form (any other byte sequence is refused)."""
    try:
        value = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PackageError(f"{what} is not valid JSON: {error}") from error
    if canonical_json(value).encode() != text:
        raise PackageError(f"{what} is not in canonical form")
    return value


def check_head(
    manifest: dict[str, Any], trusted_key_id: str | None
) -> tuple[dict[str, Any], bytes]:
    """The tree head, after checking its key and signature; returns (head, root)."""
    head = manifest["tree_head"]
    raw_key = base64.b64decode(manifest["public_key"], validate=True)
    if base64.b64encode(raw_key).decode() != manifest["public_key"] or len(raw_key) != 32:
        raise PackageError("public_key is not 32 bytes of canonical base64")
    if head["key_id"] != key_id(raw_key):
        raise PackageError("the tree head names a key other than the package's public key")
    if trusted_key_id is not None and head["key_id"] != trusted_key_id:
        raise PackageError(f"signed by key {head['key_id']}, not the trusted {trusted_key_id}")
    signature = base64.b64decode(head["signature"], validate=True)
    if base64.b64encode(signature).decode() != head["signature"]:
        raise PackageError("signature is not canonical base64")
    if not (isinstance(head["tree_size"], int) and HEX32.fullmatch(head["root_hash"])):
        raise PackageError("malformed tree head")
    try:
        Ed25519PublicKey.from_public_bytes(raw_key).verify(signature, head_message(head))
    except InvalidSignature as error:
        raise PackageError("the tree head's signature is not valid") from error
    return head, bytes.fromhex(head["root_hash"])


def verify(path: str, trusted_key_id: str | None = None) -> str:
    """Check a package; returns a one-line summary, raises PackageError on any failure."""
    try:
        package = zipfile.ZipFile(path)
    except ZIP_ERRORS as error:
        raise PackageError(f"not a readable zip file: {error}") from error
    with package:
        manifest = parse_canonical(read_canonical(package, MANIFEST), MANIFEST)
        documents = manifest.get("documents") if isinstance(manifest, dict) else None
        listed = sorted(documents) if isinstance(documents, dict) else []
        if sorted(package.namelist()) != sorted([MANIFEST, EVENTS, *listed]):
            raise PackageError(
                f"a package holds exactly {MANIFEST}, {EVENTS} and the documents it lists"
            )
        lines = read_canonical(package, EVENTS).split(b"\n")
        try:
            head_for_documents, _root = check_head(manifest, trusted_key_id)
            document_count = check_documents(package, manifest, head_for_documents)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise PackageError(f"malformed manifest: {error!r}") from error
    try:
        if manifest["format"] != PACKAGE_FORMAT:
            raise PackageError(f"unknown package format {manifest['format']!r}")
        head, root = check_head(manifest, trusted_key_id)
        columns: dict[str, str] = manifest["columns"]
        items: list[dict[str, Any]] = manifest["events"]
        if lines[-1] != b"" or len(lines) - 1 != len(items) or not items:
            raise PackageError(f"{EVENTS} must hold one line per manifest event")
        if not set(columns.values()) <= COLUMN_TYPES:
            raise PackageError("unknown column type in the manifest")
        used: set[str] = set()
        for number, (line, item) in enumerate(zip(lines, items, strict=False), start=1):
            event = parse_canonical(line, f"event {number}")
            if not isinstance(event, dict) or set(event) != set(columns):
                raise PackageError(f"event {number} does not have exactly the package's columns")
            used.update(name for name, value in event.items() if value is not None)
            if event.get("event.id") != item["event_id"]:
                raise PackageError(f"event {number}'s id differs from the manifest")
            path_hashes = item["audit_path"]
            if not all(isinstance(h, str) and HEX32.fullmatch(h) for h in path_hashes):
                raise PackageError(f"event {number}: malformed audit path")
            leaf = leaf_hash(encode_event(event, columns))
            proved = root_from_inclusion(
                leaf, item["leaf_index"], head["tree_size"], [bytes.fromhex(h) for h in path_hashes]
            )
            if proved != root:
                raise PackageError(f"event {number} ({item['event_id']}) is not in the signed tree")
        if used != set(columns):  # a column no event fills: its type is covered by no hash
            raise PackageError("the manifest lists a column that no event has a value for")
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise PackageError(f"malformed manifest: {error!r}") from error
    signed_at = datetime.fromtimestamp(head["timestamp"] / 1000, UTC).isoformat()
    documented = f" and {document_count} case document(s)" if document_count else ""
    return (
        f"{len(items)} event(s){documented} proved in tree {head['tree_size']} "
        f"(root {head['root_hash']}) signed at {signed_at} by key {head['key_id']}"
    )


def trusted_id(key_id_text: str | None, key_file: str | None) -> str | None:
    """The key id the user trusts, from --key-id or from a PEM public key file."""
    if key_file is None:
        return key_id_text
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
        load_pem_public_key,
    )

    with open(key_file, "rb") as handle:
        key = load_pem_public_key(handle.read())
    return key_id(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package")
    parser.add_argument("--key-id", help="refuse heads not signed by this key id")
    parser.add_argument("--public-key", help="refuse heads not signed by this PEM public key")
    arguments = parser.parse_args(argv)
    try:
        trusted = trusted_id(arguments.key_id, arguments.public_key)
        summary = verify(arguments.package, trusted)
    except (PackageError, OSError, ValueError) as error:
        print(f"FAILED: {error}")
        return 1
    print(f"OK: {summary}")
    if trusted is None:
        print("note: trust this only if the key id matches one published by the data's custodian")
    return 0


if __name__ == "__main__":
    sys.exit(main())
