"""Ed25519 keys and signatures of audit manifests (through the ``cryptography`` package).

``event-explorer keygen --out NAME`` writes ``NAME.key`` (the private key, PKCS#8 PEM,
readable by its owner only) and ``NAME.pub`` (the public key, SubjectPublicKeyInfo PEM,
to hand to whoever verifies).  Nothing is uploaded anywhere.

``audit --sign NAME.key`` signs the exact bytes of ``manifest.json`` and writes
``manifest.sig``, a small JSON file: the algorithm, the SHA-256 of the raw public key
(to tell keys apart) and the signature in base64.  ``verify --key NAME.pub`` checks it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.audit.errors import AuditError

SIGNATURE = "manifest.sig"
ALGORITHM = "Ed25519"


def generate_keys(name: Path) -> tuple[Path, Path]:
    """Write NAME.key and NAME.pub; never overwrites either."""
    private_path, public_path = Path(f"{name}.key"), Path(f"{name}.pub")
    for path in (private_path, public_path):
        if path.exists():
            raise AuditError(f"{path} exists: keygen never overwrites a key")
    if not private_path.resolve().parent.is_dir():
        raise AuditError(f"no such folder: {private_path.resolve().parent}")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # Created readable by its owner only, before any byte of the key is written.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fo:
        fo.write(private_pem)
    public_path.write_bytes(public_pem)
    return private_path, public_path


def _read(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise AuditError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(_read(path, "private key"), password=None)
    except (ValueError, TypeError) as exc:
        raise AuditError(f"{path} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditError(f"{path} is not an Ed25519 private key (make one with keygen)")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(_read(path, "public key"))
    except ValueError as exc:
        raise AuditError(f"{path} is not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise AuditError(f"{path} is not an Ed25519 public key")
    return key


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def sign_manifest(folder: Path, manifest_bytes: bytes, private_key: Path) -> Path:
    key = load_private_key(private_key)
    doc = {
        "algorithm": ALGORITHM,
        "signed_file": "manifest.json",
        "public_key_sha256": key_id(key.public_key()),
        "signature": base64.b64encode(key.sign(manifest_bytes)).decode(),
    }
    path = folder / SIGNATURE
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return path


@dataclass(frozen=True)
class SignatureCheck:
    ok: bool
    message: str


def signature_key_id(folder: Path) -> str | None:
    """The key id a report is signed with (None: not signed, or unreadable)."""
    try:
        doc = json.loads((folder / SIGNATURE).read_text())
        return str(doc["public_key_sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_signature(folder: Path, manifest_bytes: bytes, public_key: Path) -> SignatureCheck:
    key = load_public_key(public_key)
    path = folder / SIGNATURE
    if not path.exists():
        return SignatureCheck(False, "the report is not signed (it has no manifest.sig)")
    try:
        doc = json.loads(path.read_text())
        signature = base64.b64decode(doc["signature"], validate=True)
        algorithm = doc["algorithm"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return SignatureCheck(False, f"manifest.sig is damaged: {exc}")
    if algorithm != ALGORITHM:
        return SignatureCheck(False, f"manifest.sig uses {algorithm!r}, not {ALGORITHM}")
    try:
        key.verify(signature, manifest_bytes)
    except InvalidSignature:
        if doc.get("public_key_sha256") != key_id(key):
            return SignatureCheck(
                False, f"manifest.sig was made with another key than {Path(public_key).name}"
            )
        return SignatureCheck(False, "the signature does not match manifest.json (edited since)")
    return SignatureCheck(True, f"signature by key {key_id(key)[:16]}… is valid")
