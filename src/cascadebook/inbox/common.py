"""Small helpers shared by the mail modules."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
from email.utils import parseaddr
from pathlib import PurePosixPath

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIME_BY_SUFFIX = {
    ".xlsx": XLSX_MIME,
    ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    ".xltx": "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
    ".xltm": "application/vnd.ms-excel.template.macroEnabled.12",
    ".xlsb": "application/vnd.ms-excel.sheet.binary.macroEnabled.12",
    ".xls": "application/vnd.ms-excel",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
}
SUFFIX_BY_MIME = {mime: suffix for suffix, mime in MIME_BY_SUFFIX.items()}
UNSAFE = re.compile(r'[<>:"|?*\\/\x00-\x1f\x7f]')


class MailError(Exception):
    """A problem the user can fix (bad option, missing template, SMTP refused); one line, no traceback."""


def iso_utc(moment: datetime | None) -> str:
    """A mail date as ISO 8601 UTC ('2027-01-20T16:30:00Z'), the form workbook save times take."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def address_of(value: str) -> str:
    """'Priya Raman <Priya.Raman@x.example>' -> 'priya.raman@x.example' (for comparing senders)."""
    return parseaddr(value or "")[1].strip().casefold()


def safe_filename(name: str, fallback: str = "attachment") -> str:
    """An attachment or archive member name made safe to write: no folders, no control characters."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = PurePosixPath(name.replace("\\", "/")).name
    name = UNSAFE.sub("_", name).strip(" .")
    if not name:
        return fallback
    if len(name) > 150:
        stem, dot, suffix = name.rpartition(".")
        name = (stem[:140] + "." + suffix[:9]) if dot and len(suffix) < 10 else name[:150]
    return name


def suffix_of(name: str) -> str:
    return PurePosixPath(name).suffix.lower()
