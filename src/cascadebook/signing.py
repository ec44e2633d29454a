"""HMAC signatures that bind a template's metadata together.

The key stays with the strategy office (a file beside the strategy, created on first use) and is
never written into a template, so a department cannot forge or re-target a template: editing the
hidden metadata, or copying it into another department's workbook, breaks the signature.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cascadebook.model import Metadata

KEY_FILE_NAME = ".cascadebook-key"
KEY_ENV = "CASCADEBOOK_KEY"


def key_path_for(strategy_path: str | Path) -> Path:
    return Path(strategy_path).absolute().parent / KEY_FILE_NAME


def load_key(strategy_path: str | Path, *, create: bool = False) -> bytes | None:
    """The signing key: $CASCADEBOOK_KEY, else the key file beside the strategy.

    ``create`` makes a new key file (mode 600) when there is none; generation does that,
    reconcile does not (a reconcile without the key reports signatures as unverified).
    """
    env = os.environ.get(KEY_ENV)
    if env:
        return env.strip().encode()
    path = key_path_for(strategy_path)
    if path.is_file():
        return path.read_text(encoding="ascii").strip().encode()
    if not create:
        return None
    key = secrets.token_hex(32)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    os.replace(tmp, path)
    return key.encode()


def sign(metadata: Metadata, key: bytes) -> str:
    return hmac.new(key, metadata.signed_text().encode(), hashlib.sha256).hexdigest()[:32]


def verify(metadata: Metadata, key: bytes) -> bool:
    return hmac.compare_digest(sign(metadata, key), metadata.signature)
