"""Who sent a message and when: its envelope, and the author of a message forwarded by someone else.

A workbook is its author's: for a message forwarded as an attachment, a saved .eml/.msg inside a
message or an archive, or a message forwarded inline, the author is the forwarded message's sender
(and whoever passed it on is kept as ``forwarded_by``). Used by ``inbox.messages`` as it walks mail.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import Message
from email.utils import parseaddr, parsedate_to_datetime

from cascadebook.inbox.common import address_of


@dataclass(frozen=True)
class Envelope:
    """The message an item came in (for a forwarded message, its author's)."""

    sender: str = ""
    sender_name: str = ""
    date: datetime | None = None
    subject: str = ""
    message_id: str = ""
    forwarded_by: str = ""


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - a header the parser cannot make sense of
        value = msg.get_all(name, failobj=[""])[0] if hasattr(msg, "get_all") else ""
    return " ".join(str(value or "").split())


def message_date(msg: Message, fallback: datetime | None = None) -> datetime | None:
    """The Date header, else the first Received line's date (timezone-aware), else ``fallback``."""
    for text in (_header(msg, "Date"), *[str(r).rpartition(";")[2] for r in (msg.get_all("Received") or [])[:1]]):
        text = text.strip()
        if not text:
            continue
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            continue
        if moment is not None:
            return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return fallback


def envelope_of(msg: Message, fallback_date: datetime | None = None) -> Envelope:
    """A message's own sender, date, subject and id (who forwarded it is decided by the caller)."""
    name, addr = parseaddr(_header(msg, "From"))
    return Envelope(
        sender=addr.strip(),
        sender_name=name.strip(),
        date=message_date(msg, fallback_date),
        subject=_header(msg, "Subject"),
        message_id=_header(msg, "Message-ID"),
    )


def forwarded(outer: Envelope, inner: Envelope) -> Envelope:
    """A message inside another (forwarded as an attachment, or a saved .eml/.msg in a message or an
    archive): its workbook is its author's, sent when the author sent it; whoever passed it on is
    kept as ``forwarded_by``. Without an author (no From), the outer message stands."""
    if not inner.sender:
        return Envelope(
            outer.sender,
            outer.sender_name,
            outer.date or inner.date,
            outer.subject or inner.subject,
            outer.message_id or inner.message_id,
            outer.forwarded_by,
        )
    by = outer.sender if outer.sender and address_of(outer.sender) != address_of(inner.sender) else outer.forwarded_by
    return Envelope(
        inner.sender,
        inner.sender_name,
        inner.date or outer.date,
        inner.subject or outer.subject,
        inner.message_id or outer.message_id,
        by,
    )


# A message forwarded inline carries the original's attachments under the forwarder's From; its body
# names the author in a header block that mail programs write after a marker line. A reply quoting a
# forward looks much the same, so only a subject whose FIRST prefix is a forward's counts ("Re: Fwd:" is
# a reply), and the block must be the body's first separator: a wrong author is worse than a missed forward.
_FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|wg|tr|rv|vs|doorst)\s*:", re.I)
_FROM_LINE = re.compile(r"^[\s>*]*(?:from|von|de|da|van)[\s*]*:[\s*]*(?P<who>.+?)[\s*]*$", re.I | re.M)
# The body's first separator: a marker above, an unquoted From line (Outlook's plain forward), a quoted
# (">") line, or a reply's "On ... wrote:" line (the last two mean what follows is quoted, not forwarded).
_SEPARATOR = re.compile(
    r"^(?:[ \t]*(?P<marker>-+\s*(?:forwarded|original) message\s*-+|begin forwarded message:|_{10,})"
    r"\s*$|[ \t*]*(?P<from>(?:from|von|de|da|van)[ \t*]*:)|[ \t]*>|.*\b(?:wrote|schrieb|a écrit"
    r"|ha scritto|schreef|escribió|skrev|kirjoitti)\s*:\s*$)",
    re.I | re.M,
)
_BLOCK = 600  # the header block follows its marker within this many characters


def _body_text(msg: Message) -> str:
    try:
        part = msg.get_body(preferencelist=("plain", "html")) if hasattr(msg, "get_body") else None
        text = part.get_content() if part is not None else ""
    except Exception:  # noqa: BLE001 - an undecodable body names no one
        return ""
    if not isinstance(text, str):
        return ""
    if part.get_content_subtype() == "html":
        text = re.sub(r"(?i)<br\s*/?>|</(?:p|div|tr|li)>", "\n", text)
        text = html.unescape(re.sub(r"<[^>]*>", "", text))  # tags first: &lt;addr&gt; is text
    return text


def inline_forward(msg: Message, env: Envelope) -> Envelope:
    """``env``, or, for a message forwarded inline, the forwarded message's author (forwarded by env's sender).

    A forward is a subject whose first prefix is Fwd:/Fw:/WG:/TR:/... ("Re: Fwd:" and "AW: WG:" are
    replies, whose attachments are the replier's) over a body whose first separator is an unquoted
    "Forwarded message" / "Begin forwarded message:" / "Original Message" / "____" block or From line
    (not a quoted ">" line or an "On ... wrote:" line). The author is that block's From line, when it
    gives an address; in any doubt the envelope sender stands.
    """
    return forward_author(_header(msg, "Subject"), _body_text(msg), env)


def forward_author(subject: str, body: str, env: Envelope) -> Envelope:
    """``inline_forward`` on a message's subject and body text (an e-mail's or an Outlook .msg's)."""
    if not _FORWARD_SUBJECT.match(subject):
        return env
    first = _SEPARATOR.search(body)
    if first is None or not (first["marker"] or first["from"]):
        return env
    start = first.end() if first["marker"] else first.start()
    line = _FROM_LINE.search(body, start, start + _BLOCK)
    if line is None:
        return env
    who = re.sub(r"\[mailto:([^\]]+)\]", r"<\1>", line["who"])  # Outlook: Raman, Priya [mailto:...]
    angle = re.search(r"<([^<>\s]+@[^<>\s]+)>", who)  # the name may hold an unquoted comma
    name, addr = (who[: angle.start()].strip(), angle[1]) if angle else parseaddr(who)
    if "@" not in addr or (env.sender and address_of(addr) == address_of(env.sender)):
        return env
    return Envelope(
        addr.strip(), name.strip().strip('"'), env.date, env.subject, env.message_id, env.sender or env.forwarded_by
    )


def outlook_envelope(msg) -> Envelope:
    """``envelope_of`` for an Outlook .msg opened by extract-msg."""

    def attr(name: str):
        try:
            return getattr(msg, name, None)
        except Exception:  # noqa: BLE001 - extract-msg computes these lazily and may fail on odd files
            return None

    name, addr = parseaddr(str(attr("sender") or ""))
    moment = attr("date")
    if isinstance(moment, datetime) and moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return Envelope(
        addr,
        name,
        moment if isinstance(moment, datetime) else None,
        str(attr("subject") or ""),
        str(attr("messageId") or ""),
    )
