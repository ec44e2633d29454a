"""Collect returned workbooks from wherever mail left them: folders, .zip, .eml, .mbox, Maildir, .msg.

``iter_items`` walks a source and yields every attachment (and every message without one) with the
message it came in: sender, date, subject. ``collect`` writes the spreadsheets into one folder,
drops byte-identical duplicates and writes a manifest. ``expand_mail_source`` is what ``reconcile``
uses to read such sources directly: attachments are written once into a content-addressed cache
(so the master's links keep working) and each keeps its mail date for newest-wins.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import logging
import mailbox
import os
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from email import message_from_bytes, policy
from email.message import Message
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

from cascadebook.atomic import all_or_nothing, check_writable, write_bytes_atomic, write_text_atomic
from cascadebook.findings import Finding
from cascadebook.inbox.common import SUFFIX_BY_MIME, MailError, address_of, iso_utc, parse_iso, safe_filename, suffix_of
from cascadebook.intake.reader import read_return
from cascadebook.kinds import WORKBOOK_SUFFIXES
from cascadebook.spec.schema import load_spec

SEP = " › "
MAIL_SUFFIXES = (".eml", ".mbox", ".mbx", ".msg", ".zip")
MANIFEST_JSON = "manifest.json"
MANIFEST_CSV = "manifest.csv"
MANIFEST_FORMAT = "cascadebook-collect"
MAX_DEPTH = 4  # archives in messages in archives ...
MAX_MEMBER = 100 * 1024 * 1024  # a zip member larger than this (declared) is refused
MAX_RATIO = 200
CACHE_ENV = "CASCADEBOOK_CACHE"


def _workbook_suffixes() -> tuple[str, ...]:

    return WORKBOOK_SUFFIXES


@dataclass
class Item:
    """One thing found in a source: an attachment (spreadsheet or not), or a message without one."""

    kind: str  # workbook, other, no-attachment, unreadable
    display: str  # "inbox.mbox › message 3 › FY2027_MKT.xlsx"
    filename: str = ""
    data: bytes = field(default=b"", repr=False)
    sender: str = ""  # address
    sender_name: str = ""
    date: datetime | None = None
    subject: str = ""
    message_id: str = ""
    note: str = ""
    path: Path | None = None  # for a workbook found as a plain file: read from there
    forwarded_by: str = ""  # the address that forwarded the message (the sender is its author)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.payload()).hexdigest() if self.kind == "workbook" else ""

    def payload(self) -> bytes:
        if self.path is not None and not self.data:
            self.data = self.path.read_bytes()
        return self.data


@dataclass(frozen=True)
class _Envelope:
    sender: str = ""
    sender_name: str = ""
    date: datetime | None = None
    subject: str = ""
    message_id: str = ""
    forwarded_by: str = ""


# ------------------------------------------------------------------ recognising sources


def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def is_collected(path: Path) -> bool:
    manifest = path / MANIFEST_JSON
    if not manifest.is_file():
        return False
    try:
        return json.loads(manifest.read_text(encoding="utf-8")).get("format") == MANIFEST_FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _looks_like_mbox(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(5) == b"From "
    except OSError:
        return False


def is_mail_source(path: str | Path) -> bool:
    """Whether reconcile should hand this input to the mail reader rather than read it as a workbook."""
    path = Path(path)
    if path.is_dir():
        return is_maildir(path) or is_collected(path)
    if not path.is_file():
        return False
    suffix = path.suffix.lower()
    if suffix in MAIL_SUFFIXES:
        return True
    return suffix == "" and _looks_like_mbox(path)


# ------------------------------------------------------------------ walking sources


def iter_items(source: str | Path, display: str | None = None) -> Iterator[Item]:
    """Everything in one source, in a stable order; unreadable parts become ``unreadable`` items."""
    source = Path(source)
    display = display or source.name
    if source.is_dir():
        if is_maildir(source):
            yield from _maildir(source, display)
        else:
            yield from _folder(source, display)
        return
    suffix = source.suffix.lower()
    try:
        if suffix in (".mbox", ".mbx") or (suffix == "" and _looks_like_mbox(source)):
            yield from _mbox(source, display)
        elif suffix in (".eml", ".msg", ".zip"):
            yield from _blob(source.read_bytes(), source.name, display, _Envelope(), 0)
        elif suffix in _workbook_suffixes():
            yield Item("workbook", display, safe_filename(source.name), path=source)
        else:
            yield Item("other", display, source.name, note="not a spreadsheet or a mail file")
    except OSError as exc:
        yield Item("unreadable", display, source.name, note=f"cannot read: {exc.strerror or exc}")


def _folder(folder: Path, display: str) -> Iterator[Item]:
    for root, dirs, files in os.walk(folder):
        root_path = Path(root)
        rel = root_path.relative_to(folder)
        keep = []
        for name in sorted(dirs):
            if name.startswith("."):
                continue
            sub = root_path / name
            if is_maildir(sub):
                yield from _maildir(sub, _join(display, *rel.parts, name))
            else:
                keep.append(name)
        dirs[:] = keep
        for name in sorted(files):
            if name.startswith((".", "~$")) or (
                rel == Path(".") and name in (MANIFEST_JSON, MANIFEST_CSV) and is_collected(folder)
            ):
                continue
            yield from iter_items(root_path / name, _join(display, *rel.parts, name))


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p and p != ".")


def _mbox(path: Path, display: str) -> Iterator[Item]:
    box = mailbox.mbox(str(path), create=False)
    try:
        for number, key in enumerate(box.iterkeys(), 1):
            where = f"{display}{SEP}message {number}"
            try:
                data = box.get_bytes(key)
            except Exception as exc:  # noqa: BLE001 - one broken message must not stop the rest
                yield Item("unreadable", where, note=f"cannot read the message ({exc})")
                continue
            yield from _message_bytes(data, where, 0)
    finally:
        box.close()


def _maildir(path: Path, display: str) -> Iterator[Item]:
    box = mailbox.Maildir(str(path), factory=None, create=False)
    found = []
    for key in box.iterkeys():
        try:
            data = box.get_bytes(key)
            delivered = datetime.fromtimestamp(box.get_message(key).get_date(), timezone.utc)
        except Exception:  # noqa: BLE001
            continue
        msg = _parse(data)
        moment = _date(msg, delivered) if msg is not None else delivered
        found.append((moment or delivered, key, data))
    found.sort(key=lambda t: (t[0], t[1]))
    for number, (moment, _key, data) in enumerate(found, 1):
        yield from _message_bytes(data, f"{display} (Maildir){SEP}message {number}", 0, fallback_date=moment)


def _parse(data: bytes) -> Message | None:
    try:
        return message_from_bytes(data, policy=policy.default)
    except Exception:  # noqa: BLE001
        return None


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - a header the parser cannot make sense of
        value = msg.get_all(name, failobj=[""])[0] if hasattr(msg, "get_all") else ""
    return " ".join(str(value or "").split())


def _date(msg: Message, fallback: datetime | None = None) -> datetime | None:
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


def _envelope(msg: Message, fallback_date: datetime | None = None) -> _Envelope:
    name, addr = parseaddr(_header(msg, "From"))
    return _Envelope(
        sender=addr.strip(),
        sender_name=name.strip(),
        date=_date(msg, fallback_date),
        subject=_header(msg, "Subject"),
        message_id=_header(msg, "Message-ID"),
    )


def _message_bytes(data: bytes, where: str, depth: int, fallback_date: datetime | None = None) -> Iterator[Item]:
    msg = _parse(data)
    if msg is None:
        yield Item("unreadable", where, note="not a readable e-mail message")
        return
    yield from _message(msg, where, _envelope(msg, fallback_date), depth)


def _leaves(msg: Message, env: _Envelope) -> Iterator[tuple[Message, _Envelope]]:
    """A message's leaf parts, each with the envelope it belongs to: the parts of a message forwarded
    as an attachment (message/rfc822) are its author's, not the forwarder's; so are the attachments
    of a message forwarded inline ("---------- Forwarded message ---------", From: ...)."""
    env = _inline_forward(msg, env)
    stack: list[tuple[Message, _Envelope]] = [(msg, env)]
    while stack:
        part, owner = stack.pop()
        if part is not msg and part.get_content_type() == "message/rfc822" and part.is_multipart():
            inner = [m for m in part.get_payload() if isinstance(m, Message)]
            stack.extend(reversed([(m, _inline_forward(m, _forwarded(owner, _envelope(m)))) for m in inner]))
        elif part.is_multipart():
            stack.extend(reversed([(sub, owner) for sub in part.get_payload() if isinstance(sub, Message)]))
        elif part.get_content_maintype() != "message":
            yield part, owner


def _message(msg: Message, where: str, env: _Envelope, depth: int) -> Iterator[Item]:
    found = False
    names: dict[str, int] = {}
    for part, owner in _leaves(msg, env):
        try:
            filename = part.get_filename()
        except Exception:  # noqa: BLE001
            filename = None
        ctype = part.get_content_type()
        if not filename:
            if ctype not in SUFFIX_BY_MIME and ctype not in (
                "application/zip",
                "application/x-zip-compressed",
                "application/vnd.ms-outlook",
            ):
                continue  # the body text, not an attachment
            filename = "attachment" + SUFFIX_BY_MIME.get(ctype, ".zip" if "zip" in ctype else ".msg")
        name = safe_filename(filename)
        if not suffix_of(name) and ctype in SUFFIX_BY_MIME:
            name += SUFFIX_BY_MIME[ctype]
        names[name] = names.get(name, 0) + 1
        label = name if names[name] == 1 else f"{name} ({names[name]})"
        try:
            payload = part.get_payload(decode=True) or b""
        except Exception:  # noqa: BLE001
            yield _item("unreadable", f"{where}{SEP}{label}", name, b"", owner, "the attachment cannot be decoded")
            continue
        found = True
        yield from _blob(payload, name, f"{where}{SEP}{label}", owner, depth + 1, content_type=ctype)
    if not found:
        yield _item("no-attachment", where, "", b"", env, "the message has no attachment")


def _item(kind: str, where: str, name: str, data: bytes, env: _Envelope, note: str = "") -> Item:
    return Item(
        kind,
        where,
        name,
        data,
        env.sender,
        env.sender_name,
        env.date,
        env.subject,
        env.message_id,
        note,
        forwarded_by=env.forwarded_by,
    )


def _blob(data: bytes, name: str, where: str, env: _Envelope, depth: int, content_type: str = "") -> Iterator[Item]:
    """Bytes named ``name``: a workbook, or a container (zip, eml, msg) to open, or something else."""
    suffix = suffix_of(name)
    if name.startswith(("~$", ".~lock")):
        yield _item("other", where, name, b"", env, "an editor's lock file")
    elif suffix in _workbook_suffixes():
        yield _item("workbook", where, name, data, env)
    elif depth > MAX_DEPTH and suffix in (".zip", ".eml", ".msg"):
        yield _item("unreadable", where, name, b"", env, "nested too deeply")
    elif suffix == ".zip":
        yield from _zip(data, where, env, depth)
    elif suffix == ".eml" or content_type == "message/rfc822":
        msg = _parse(data)
        if msg is None:
            yield _item("unreadable", where, name, b"", env, "not a readable e-mail message")
        else:
            yield from _message(msg, where, _forwarded(env, _envelope(msg)), depth)
    elif suffix == ".msg":
        yield from _msg(data, name, where, env, depth)
    else:
        yield _item("other", where, name, b"", env, f"not a spreadsheet ({content_type or suffix or 'no type'})")


def _forwarded(outer: _Envelope, inner: _Envelope) -> _Envelope:
    """A message inside another (forwarded as an attachment, or a saved .eml/.msg in a message or an
    archive): its workbook is its author's, sent when the author sent it; whoever passed it on is
    kept as ``forwarded_by``. Without an author (no From), the outer message stands."""
    if not inner.sender:
        return _Envelope(
            outer.sender,
            outer.sender_name,
            outer.date or inner.date,
            outer.subject or inner.subject,
            outer.message_id or inner.message_id,
            outer.forwarded_by,
        )
    by = outer.sender if outer.sender and address_of(outer.sender) != address_of(inner.sender) else outer.forwarded_by
    return _Envelope(
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


def _inline_forward(msg: Message, env: _Envelope) -> _Envelope:
    """``env``, or, for a message forwarded inline, the forwarded message's author (forwarded by env's sender).

    A forward is a subject whose first prefix is Fwd:/Fw:/WG:/TR:/... ("Re: Fwd:" and "AW: WG:" are
    replies, whose attachments are the replier's) over a body whose first separator is an unquoted
    "Forwarded message" / "Begin forwarded message:" / "Original Message" / "____" block or From line
    (not a quoted ">" line or an "On ... wrote:" line). The author is that block's From line, when it
    gives an address; in any doubt the envelope sender stands.
    """
    return _forward_author(_header(msg, "Subject"), _body_text(msg), env)


def _forward_author(subject: str, body: str, env: _Envelope) -> _Envelope:
    """``_inline_forward`` on a message's subject and body text (an e-mail's or an Outlook .msg's)."""
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
    return _Envelope(
        addr.strip(), name.strip().strip('"'), env.date, env.subject, env.message_id, env.sender or env.forwarded_by
    )


def _zip(data: bytes, where: str, env: _Envelope, depth: int) -> Iterator[Item]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        yield _item("unreadable", where, "", b"", env, f"a damaged zip archive ({exc})")
        return
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            member = info.filename
            if info.is_dir() or member.startswith("__MACOSX/") or Path(member).name.startswith("._"):
                continue
            label = f"{where}{SEP}{member}"
            name = safe_filename(member)
            if info.flag_bits & 0x1:
                yield _item("unreadable", label, name, b"", env, "the archive member is encrypted")
                continue
            if info.file_size > MAX_MEMBER or (
                info.file_size > 20 * 1024 * 1024 and info.file_size / max(info.compress_size, 1) > MAX_RATIO
            ):
                yield _item("unreadable", label, name, b"", env, "the archive member is too large")
                continue
            if suffix_of(name) not in (*_workbook_suffixes(), ".zip", ".eml", ".msg"):
                yield _item("other", label, name, b"", env, "not a spreadsheet")
                continue
            try:
                payload = archive.read(info)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
                yield _item("unreadable", label, name, b"", env, f"cannot extract ({exc})")
                continue
            yield from _blob(payload, name, label, env, depth + 1)


def _msg(data: bytes, name: str, where: str, env: _Envelope, depth: int) -> Iterator[Item]:
    try:
        import extract_msg
    except ImportError:
        yield _item("unreadable", where, name, b"", env, "reading .msg needs the extract-msg package")
        return
    logging.getLogger("extract_msg").setLevel(logging.ERROR)
    try:
        msg = extract_msg.openMsg(data, strict=False)
    except Exception as exc:  # noqa: BLE001 - a broken .msg is a finding, never a crash
        yield _item("unreadable", where, name, b"", env, f"not a readable Outlook message ({type(exc).__name__})")
        return
    try:
        yield from _msg_items(msg, where, env if depth > 0 else _Envelope(), depth)
    finally:
        try:
            msg.close()
        except Exception:  # noqa: BLE001
            pass


def _msg_envelope(msg) -> _Envelope:
    def attr(name: str):
        try:
            return getattr(msg, name, None)
        except Exception:  # noqa: BLE001 - extract-msg computes these lazily and may fail on odd files
            return None

    name, addr = parseaddr(str(attr("sender") or ""))
    moment = attr("date")
    if isinstance(moment, datetime) and moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return _Envelope(
        addr,
        name,
        moment if isinstance(moment, datetime) else None,
        str(attr("subject") or ""),
        str(attr("messageId") or ""),
    )


def _msg_items(msg, where: str, outer: _Envelope, depth: int) -> Iterator[Item]:
    env = _forwarded(outer, _msg_envelope(msg))
    try:
        body = str(getattr(msg, "body", None) or "")
    except Exception:  # noqa: BLE001 - extract-msg decodes the body lazily and may fail on odd files
        body = ""
    env = _forward_author(env.subject, body, env)
    attachments = list(getattr(msg, "attachments", None) or [])
    if not attachments:
        yield _item("no-attachment", where, "", b"", env, "the message has no attachment")
        return
    names: dict[str, int] = {}
    for att in attachments:
        raw_name = (
            getattr(att, "longFilename", None)
            or getattr(att, "shortFilename", None)
            or getattr(att, "name", None)
            or "attachment"
        )
        name = safe_filename(str(raw_name))
        names[name] = names.get(name, 0) + 1
        label = f"{where}{SEP}{name if names[name] == 1 else f'{name} ({names[name]})'}"
        try:
            payload = att.data
        except Exception as exc:  # noqa: BLE001
            yield _item("unreadable", label, name, b"", env, f"cannot read the attachment ({type(exc).__name__})")
            continue
        if isinstance(payload, (bytes, bytearray)):
            yield from _blob(bytes(payload), name, label, env, depth + 1)
        elif payload is not None and hasattr(payload, "attachments"):  # an embedded message
            yield from _msg_items(payload, label, env, depth + 1)
        else:
            yield _item("other", label, name, b"", env, "an attachment that is not a file (a link or an object)")


# ------------------------------------------------------------------ collect into a folder


@dataclass
class Entry:
    """One line of the manifest."""

    source: str
    status: str  # collected, duplicate, skipped, no-attachment, unreadable
    file: str = ""  # the name in the collected folder
    sender: str = ""
    sender_name: str = ""
    date: str = ""
    subject: str = ""
    message_id: str = ""
    sha256: str = ""
    size: int = 0
    department: str = ""
    cycle: str = ""
    duplicate_of: str = ""
    note: str = ""
    forwarded_by: str = ""


@dataclass
class CollectResult:
    folder: Path
    entries: list[Entry]
    findings: list[Finding]

    def by_status(self, status: str) -> list[Entry]:
        return [e for e in self.entries if e.status == status]

    @property
    def collected(self) -> list[Entry]:
        return self.by_status("collected")

    def to_dict(self) -> dict:
        return {
            "format": MANIFEST_FORMAT,
            "version": 1,
            "collected_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "files": [asdict(e) for e in self.entries],
            "findings": [f.to_dict() for f in self.findings],
        }


def _target_name(item: Item) -> str:
    name = safe_filename(item.filename or "attachment.xlsx")
    if item.date is not None:
        name = f"{item.date.astimezone(timezone.utc):%Y-%m-%d %H%M} {name}"
    return name


def _free_name(folder: Path, name: str, data: bytes, taken: set[str]) -> str:
    stem, suffix = Path(name).stem, Path(name).suffix
    candidate, n = name, 1
    while True:
        path = folder / candidate
        if candidate.casefold() not in taken and (not path.exists() or path.read_bytes() == data):
            return candidate
        n += 1
        candidate = f"{stem} ({n}){suffix}"


def collect(
    sources: Sequence[str | Path], folder: str | Path, *, strategy=None, spec=None, key: bytes | None = None
) -> CollectResult:
    """Extract every spreadsheet from ``sources`` into ``folder`` and write manifest.json and manifest.csv.

    Byte-identical copies are written once (the copy from the newest message is kept; the others are
    listed as duplicates). With a strategy, a workbook sent from an address that is not its
    department head's is a ``sender-not-head`` warning.
    """

    spec = spec or load_spec("department")
    folder = Path(folder)
    items: list[Item] = []
    for source in sources:
        source = Path(source)
        if not source.exists():
            raise MailError(f"{source} does not exist")
        if source.resolve() == folder.resolve():
            raise MailError(f"{source} is the output folder; collect into another folder")
        items.extend(iter_items(source))

    entries: list[Entry] = []
    groups: dict[str, list[Item]] = {}
    for item in items:
        if item.kind == "workbook":
            groups.setdefault(item.sha256, []).append(item)
    order = {id(item): i for i, item in enumerate(items)}
    keep = {digest: max(group, key=lambda it: (iso_utc(it.date), -order[id(it)])) for digest, group in groups.items()}

    check_writable([folder / MANIFEST_JSON, folder / MANIFEST_CSV])  # before anything is extracted
    folder.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    written: dict[str, str] = {}
    findings: list[Finding] = []
    for digest, item in sorted(keep.items(), key=lambda kv: order[id(kv[1])]):
        data = item.payload()
        name = _free_name(folder, _target_name(item), data, taken)
        taken.add(name.casefold())
        target = folder / name
        if not target.exists():
            write_bytes_atomic(target, data)
        if item.date is not None:
            stamp = item.date.timestamp()
            os.utime(target, (stamp, stamp))
        written[digest] = name
    for item in items:
        entry = Entry(
            source=item.display,
            status=_status(item),
            sender=item.sender,
            sender_name=item.sender_name,
            date=iso_utc(item.date),
            subject=item.subject,
            message_id=item.message_id,
            note=item.note,
            forwarded_by=item.forwarded_by,
        )
        if item.kind == "workbook":
            digest = item.sha256
            entry.sha256, entry.size = digest, len(item.payload())
            if keep[digest] is item:
                entry.file = written[digest]
                ret = read_return(folder / entry.file, spec, entry.file)
                if ret.metadata is not None:
                    entry.department, entry.cycle = ret.metadata.department, ret.metadata.cycle
                else:
                    entry.note = ret.reason or "not a cascadebook template"
            else:
                entry.status = "duplicate"
                entry.duplicate_of = keep[digest].display
                entry.file = written[digest]
        entries.append(entry)
    by_file = {e.file: e for e in entries if e.status == "collected"}
    for entry in entries:
        if entry.status == "duplicate" and entry.file in by_file:
            entry.department, entry.cycle = by_file[entry.file].department, by_file[entry.file].cycle
        if entry.status == "collected" and strategy is not None:
            finding = sender_finding(
                strategy, entry.department, entry.sender, entry.file, entry.source, forwarded_by=entry.forwarded_by
            )
            if finding:
                findings.append(finding)
                entry.note = "; ".join(n for n in (entry.note, finding.message) if n)
    result = CollectResult(folder, entries, findings)
    with all_or_nothing():  # the two manifests say the same: both new, or both as they were
        write_text_atomic(folder / MANIFEST_JSON, json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
        write_text_atomic(folder / MANIFEST_CSV, _csv(entries))
    return result


def _status(item: Item) -> str:
    return {"workbook": "collected", "other": "skipped"}.get(item.kind, item.kind)


def _csv(entries: Iterable[Entry]) -> str:
    out = io.StringIO()
    names = list(Entry.__dataclass_fields__)
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\r\n")
    writer.writeheader()
    for entry in entries:
        writer.writerow(asdict(entry))
    return out.getvalue()


def sender_finding(
    strategy, department: str, sender: str, file: str, source: str = "", forwarded_by: str = ""
) -> Finding | None:
    """``sender-not-head`` when a workbook came from an address other than its department head's.

    ``sender`` is the author of the message the workbook was attached to (for a forwarded message, the
    original sender, not ``forwarded_by``)."""
    dep = strategy.department(department) if department else None
    if dep is None or not sender or not dep.email or address_of(sender) == address_of(dep.email):
        return None
    where = f" ({source})" if source and source != file else ""
    if forwarded_by:
        where = f" (forwarded by {forwarded_by}{'; ' + where[2:-1] if where else ''})"
    return Finding(
        "sender-not-head",
        f"{dep.code}'s workbook was sent by {sender}, not by the department head {dep.head} <{dep.email}>{where}",
        file=file,
        department=dep.code,
    )


# ------------------------------------------------------------------ reconcile reads mail sources directly


@dataclass(frozen=True)
class Origin:
    """The message a workbook came in, for newest-wins, the sender check and replies."""

    source: str
    sender: str = ""
    sender_name: str = ""
    date: str = ""  # ISO UTC
    subject: str = ""
    message_id: str = ""
    forwarded_by: str = ""  # who passed the author's message on (the sender is the author)


_ORIGINS: dict[tuple[str, str], Origin] = {}


def cache_dir() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cascadebook"


def _cached(data: bytes, filename: str) -> Path:
    """The attachment written once under its content hash, keeping its name for people and links."""

    digest = hashlib.sha256(data).hexdigest()
    path = cache_dir() / "extracted" / digest[:2] / digest[:24] / safe_filename(filename, "attachment.xlsx")
    if not (path.is_file() and path.stat().st_size == len(data)):
        write_bytes_atomic(path, data)
    return path


def expand_mail_source(source: str | Path, display: str | None = None) -> list[tuple[Path, str]]:
    """(path, display name) of every workbook in a mail source, for ``reconcile``.

    Attachments go to the cache (``$CASCADEBOOK_CACHE``, else ``~/.cache/cascadebook``); the message
    each came in is remembered for ``origin_of`` and ``received_at``. A source that cannot be read
    at all is returned as itself, so reconcile lists it as a skipped file rather than losing it.
    """
    source = Path(source)
    display = display or source.name
    if source.is_dir() and is_collected(source):
        return _expand_collected(source, display)
    found: list[tuple[Path, str]] = []
    try:
        items = list(iter_items(source, display))
    except Exception:  # noqa: BLE001 - e.g. a mailbox that cannot be parsed at all
        return [(source, display)]
    for item in items:
        if item.kind != "workbook":
            continue
        if item.path is not None:
            path = item.path
        else:
            try:
                path = _cached(item.payload(), item.filename)
            except OSError as exc:
                raise MailError(f"cannot write the attachments of {display} to {cache_dir()}: {exc}") from None
        _ORIGINS[(str(path), item.display)] = Origin(
            item.display,
            item.sender,
            item.sender_name,
            iso_utc(item.date),
            item.subject,
            item.message_id,
            item.forwarded_by,
        )
        found.append((path, item.display))
    if (
        not found
        and not any(i.kind == "workbook" for i in items)
        and source.is_file()
        and any(i.kind == "unreadable" and i.display == display for i in items)
    ):
        return [(source, display)]
    return found


def _expand_collected(folder: Path, display: str) -> list[tuple[Path, str]]:
    """A folder written by ``collect``: its files, dated and attributed by its manifest."""
    try:
        manifest = json.loads((folder / MANIFEST_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    known = {e.get("file"): e for e in manifest.get("files", []) if e.get("status") == "collected"}
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            if rel in (MANIFEST_JSON, MANIFEST_CSV) or name.startswith("."):
                continue
            shown = f"{display}/{rel}"
            entry = known.get(rel)
            if entry:
                _ORIGINS[(str(path), shown)] = Origin(
                    entry.get("source", ""),
                    entry.get("sender", ""),
                    entry.get("sender_name", ""),
                    entry.get("date", ""),
                    entry.get("subject", ""),
                    entry.get("message_id", ""),
                    entry.get("forwarded_by", ""),
                )
            found.append((path, shown))
    return found


def origin_of(path: str | Path, file: str) -> Origin | None:
    """The message a workbook read by reconcile came in (None for a plain file)."""
    return _ORIGINS.get((str(path), file))


def received_at(path: str | Path, file: str) -> str:
    """The mail date (ISO UTC) of a workbook read from a mail source, '' otherwise."""
    origin = origin_of(path, file)
    return origin.date if origin else ""


def origin_date(origin: Origin | None) -> datetime | None:
    return parse_iso(origin.date) if origin else None
