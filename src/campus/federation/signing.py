"""The centre's Ed25519 key: it signs every task; nodes pin its public key and verify.

The private key lives in the centre's var folder (`federation/centre.key`, mode 0600),
created on first use. Creation is atomic (written aside, then hard-linked into place), so
several server workers starting at once end up with the same key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE = "centre.key"


def canonical(payload: dict[str, Any]) -> bytes:
    """The bytes signed: sorted keys, no spaces, UTF-8 (the same on both sides)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _key_path(var_dir: Path) -> Path:
    return var_dir / "federation" / KEY_FILE


def private_key(var_dir: Path) -> Ed25519PrivateKey:
    path = _key_path(var_dir)
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        aside = path.with_name(f".{KEY_FILE}.{os.getpid()}")
        descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(aside, path)  # fails if another process got there first: keep theirs
        except FileExistsError:
            pass
        finally:
            aside.unlink(missing_ok=True)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path.name} is not an Ed25519 private key")
    return key


def public_pem(var_dir: Path) -> str:
    return (
        private_key(var_dir)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def fingerprint(pem: str) -> str:
    """SHA-256 of the public key's PEM, to compare over the phone when pinning it."""
    return hashlib.sha256(pem.strip().encode()).hexdigest()


def sign(var_dir: Path, payload: dict[str, Any]) -> str:
    return base64.b64encode(private_key(var_dir).sign(canonical(payload))).decode()


def load_public(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the pinned centre key is not an Ed25519 public key")
    return key


def verify(public: Ed25519PublicKey, payload: dict[str, Any], signature: str) -> bool:
    try:
        public.verify(base64.b64decode(signature, validate=True), canonical(payload))
    except (InvalidSignature, ValueError):
        return False
    return True
