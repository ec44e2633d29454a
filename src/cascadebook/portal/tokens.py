"""The portal's links: a department's page and the office's page, each reached by a secret in its URL.

No accounts: a token is an HMAC-SHA256 of (purpose, cycle, department, generation) under the cycle key
(the one that signs the templates, ``signing.py``), so it cannot be made without the key, and one
department's token opens no other page and no other cycle. Revoking a department's link raises its
generation (a row in the store), which makes every earlier token wrong; all department links stop
working when the cycle closes (``Strategy.closes_on``). The office's token has its own purpose and
never opens a department page, nor the other way round. Every comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date

DEPARTMENT = "department"
OFFICE = "office"
CSRF = "csrf"


@dataclass(frozen=True)
class Verdict:
    """Whether a presented token opens the page, and if not, why (said to nobody but the log)."""

    ok: bool
    reason: str = ""


def _mac(key: bytes, *parts: str) -> str:
    message = "\x1f".join(("cascadebook-portal", *parts)).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def department_token(key: bytes, cycle: str, department: str, generation: int = 1) -> str:
    """The secret in a department's link: ``<generation>.<hmac>``."""
    return f"{generation}.{_mac(key, DEPARTMENT, cycle, department.casefold(), str(generation))[:40]}"


def office_token(key: bytes, cycle: str) -> str:
    return _mac(key, OFFICE, cycle)[:40]


def check_department(
    key: bytes, cycle: str, department: str, token: str, generation: int, closes_on: date | None, today: date
) -> Verdict:
    """Whether ``token`` opens ``department``'s page now: made with the key for this cycle, department
    and current ``generation`` (earlier ones are revoked), and the cycle not closed."""
    expected = department_token(key, cycle, department, generation)
    if not hmac.compare_digest(expected.encode(), token.encode("utf-8", "replace")):
        return Verdict(False, "wrong or revoked token")
    if closes_on is not None and today > closes_on:
        return Verdict(False, f"the cycle closed on {closes_on.isoformat()}")
    return Verdict(True)


def check_office(key: bytes, cycle: str, token: str) -> bool:
    return hmac.compare_digest(office_token(key, cycle).encode(), token.encode("utf-8", "replace"))


def csrf_token(key: bytes, nonce: str) -> str:
    """The form token bound to the browser's CSRF cookie ``nonce`` (signed double submit): a page from
    another site can neither read the cookie nor make the token for it."""
    return _mac(key, CSRF, nonce)[:40]


def check_csrf(key: bytes, nonce: str | None, presented: str | None) -> bool:
    if not nonce or not presented:
        return False
    return hmac.compare_digest(csrf_token(key, nonce).encode(), presented.encode("utf-8", "replace"))
