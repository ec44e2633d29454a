"""The signing key and the template signature, stated as behaviour (fast: no workbook is built).

The key is the strategy office's secret: $CASCADEBOOK_KEY when set, else a file beside the strategy
that only its owner may read (mode 600), made on first use by generation and never by reconcile. A
signature binds every signed metadata field, so editing one, or verifying with another key, fails.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from cascadebook.model import Metadata
from cascadebook.signing import KEY_ENV, KEY_FILE_NAME, key_path_for, load_key, sign, verify

META = Metadata(
    format_version="2",
    cycle="FY2026",
    department="SALES",
    spec_name="department",
    spec_version="1",
    fingerprint="abc123",
    generated_at="2026-01-05T10:00:00+00:00",
)


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)


# ---- where the key lives --------------------------------------------------------------------------


def test_key_file_is_named_and_placed_beside_the_strategy(tmp_path, monkeypatch):
    assert KEY_FILE_NAME == ".cascadebook-key" and KEY_ENV == "CASCADEBOOK_KEY"
    assert key_path_for(tmp_path / "plans" / "strategy.yaml") == tmp_path / "plans" / ".cascadebook-key"
    monkeypatch.chdir(tmp_path)
    found = key_path_for("strategy.xlsx")  # a relative path: beside it, as an absolute path
    assert found.is_absolute() and found == tmp_path / ".cascadebook-key"


# ---- load_key: table of situations -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "file_text", "expected"),
    [
        ("secret-from-env", None, b"secret-from-env"),
        ("  padded\n", None, b"padded"),  # spaces and newlines around the variable are not the key
        ("env-wins", "file-key\n", b"env-wins"),  # the variable beats the file
        ("", "file-key\n", b"file-key"),  # an empty variable is no key: the file is used
        (None, "  file-key \n", b"file-key"),
        (None, "0123abcd" * 8 + "\n", ("0123abcd" * 8).encode()),
        (None, None, None),  # no key anywhere and not asked to create one: unverified, not an error
    ],
)
def test_load_key_prefers_the_variable_then_the_file(tmp_path, monkeypatch, env, file_text, expected):
    strategy = tmp_path / "strategy.yaml"
    if env is not None:
        monkeypatch.setenv(KEY_ENV, env)
    if file_text is not None:
        (tmp_path / KEY_FILE_NAME).write_text(file_text, encoding="ascii")
    assert load_key(strategy) == expected
    assert load_key(str(strategy)) == expected  # a path given as text is the same
    assert (tmp_path / KEY_FILE_NAME).exists() == (file_text is not None)  # loading never creates a file


def test_a_key_file_that_is_not_ascii_is_refused(tmp_path):
    """A key file holds hex digits; anything else is a damaged or substituted file, not a key."""
    (tmp_path / KEY_FILE_NAME).write_bytes("clé\n".encode())
    with pytest.raises(UnicodeDecodeError):
        load_key(tmp_path / "strategy.yaml")


def test_create_makes_a_private_key_file_of_64_hex_digits(tmp_path):
    strategy = tmp_path / "strategy.yaml"
    key = load_key(strategy, create=True)
    path = tmp_path / KEY_FILE_NAME
    assert key is not None and len(key) == 64 and all(c in b"0123456789abcdef" for c in key)
    assert path.read_bytes() == key + b"\n"
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600  # only the strategy office reads it
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILE_NAME]  # no temporary file left
    assert load_key(strategy) == key  # the next load reads the same key
    assert load_key(strategy, create=True) == key  # and create keeps an existing key
    assert load_key(tmp_path / "other" / "x.yaml", create=False) is None


def test_create_overwrites_a_stale_temporary_file_whole(tmp_path):
    """A temporary file left by an interrupted run is truncated, not written over in part."""
    stale = tmp_path / (KEY_FILE_NAME + ".tmp")
    stale.write_text("x" * 500, encoding="ascii")
    key = load_key(tmp_path / "strategy.yaml", create=True)
    assert (tmp_path / KEY_FILE_NAME).read_bytes() == key + b"\n"
    assert not stale.exists()


def test_two_created_keys_differ(tmp_path):
    """Each strategy folder gets its own random key: one office's key signs no other's templates."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert load_key(tmp_path / "a" / "s.yaml", create=True) != load_key(tmp_path / "b" / "s.yaml", create=True)


def test_create_with_the_variable_set_writes_no_file(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "from-env")
    assert load_key(tmp_path / "strategy.yaml", create=True) == b"from-env"
    assert not (tmp_path / KEY_FILE_NAME).exists()


# ---- sign / verify ---------------------------------------------------------------------------------


def _expected(text: str, key: bytes) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:32]


def test_signature_is_the_first_32_hex_of_hmac_sha256_of_the_signed_fields():
    text = "2|plan|FY2026|SALES|department|1|abc123|2026-01-05T10:00:00+00:00"
    assert sign(META, b"k1") == _expected(text, b"k1")
    assert len(sign(META, b"k1")) == 32
    checkin = replace(META, kind="checkin", period="Q2", spec_fingerprint="f00")
    assert sign(checkin, b"k1") == _expected(
        "2|checkin|FY2026|SALES|department|1|abc123|2026-01-05T10:00:00+00:00|period=Q2|spec_fingerprint=f00", b"k1"
    )


@pytest.mark.parametrize(
    ("change", "key", "verifies"),
    [
        ({}, b"k1", True),
        ({}, b"k2", False),  # another key
        ({"department": "FIN"}, b"k1", False),  # metadata copied into another department's workbook
        ({"cycle": "FY2027"}, b"k1", False),
        ({"fingerprint": "abc124"}, b"k1", False),
        ({"generated_at": "2026-01-06T10:00:00+00:00"}, b"k1", False),
        ({"kind": "checkin"}, b"k1", False),
        ({"period": "Q1"}, b"k1", False),  # an optional field, once set, is signed too
        ({"spec_fingerprint": "x"}, b"k1", False),
    ],
)
def test_verify_accepts_only_the_metadata_it_was_signed_with(change, key, verifies):
    signed = replace(META, signature=sign(META, b"k1"))
    assert verify(replace(signed, **change), key) is verifies


@pytest.mark.parametrize(
    "signature",
    ["", "0" * 32, "SIG", None],  # none, a wrong one, a short one; None: the right one cut by a character
)
def test_verify_rejects_a_wrong_or_truncated_signature(signature):
    right = sign(META, b"k1")
    wrong = right[:-1] if signature is None else signature
    assert verify(replace(META, signature=wrong), b"k1") is False
    assert verify(replace(META, signature=right + "0"), b"k1") is False
    assert verify(replace(META, signature=right), b"k1") is True


def test_load_key_and_sign_work_together(tmp_path: Path):
    key = load_key(tmp_path / "strategy.yaml", create=True)
    assert key is not None
    signed = replace(META, signature=sign(META, key))
    assert verify(signed, load_key(tmp_path / "strategy.yaml") or b"") is True
