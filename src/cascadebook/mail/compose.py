"""Messages from text templates: the request that carries a template, reminders and feedback replies.

A message template is plain text: a ``Subject:`` line, a blank line, then the body, with
``${placeholders}`` (see ``PLACEHOLDERS``). The text comes, first match wins, from a
``--template`` file, from the strategy YAML's ``email:`` section (inline text or a file name beside
the strategy), from ``email_<kind>.txt`` beside the strategy, or from the bundled
``workbook_templates/email_<kind>.txt``.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from pathlib import Path

from cascadebook.atomic import staged, write_bytes_atomic
from cascadebook.inbox.common import MIME_BY_SUFFIX, XLSX_MIME, MailError, suffix_of
from cascadebook.kinds import WORKBOOK_SUFFIXES
from cascadebook.model import Department, Strategy
from cascadebook.signing import verify
from cascadebook.spec.schema import load_spec
from cascadebook.template.department import template_filename

KINDS = ("request", "reminder", "feedback", "decisions")
MAILER = "cascadebook"

# What every kind of message can use, and what each kind adds.
PLACEHOLDERS: dict[str, dict[str, str]] = {
    "common": {
        "cycle": "the cycle id, e.g. FY2027",
        "company": "the company name",
        "department": "the department's name",
        "department_code": "the department's code, e.g. MKT",
        "head": "the department head's name",
        "head_email": "the department head's e-mail address",
        "deadline": "the response deadline, e.g. Friday 29 January 2027",
        "deadline_iso": "the response deadline as 2027-01-29",
        "contact": "the contact, name and address",
        "contact_name": "the contact's name",
        "contact_email": "the contact's e-mail address",
        "objectives": "the corporate objectives, one '- CO1  title' line each",
        "what_to_fill": "the sheets to fill in, one line each, from the template spec",
        "vision": "the vision",
        "mission": "the mission",
        "attachment": "the attached file's name",
    },
    "request": {
        "portal_link": "the department's own page on the intake portal (send --portal-url); empty without it",
    },
    "request_portal": {  # send --portal-only: the link instead of the attachment
        "portal_link": "the department's own page on the intake portal (send --portal-url)",
    },
    "reminder": {
        "due_line": "a sentence on the deadline: passed (how long ago) or coming (in how many days)",
        "attachment_line": "a sentence saying the template is attached again (empty when it is not)",
    },
    "feedback": {
        "sender_name": "the name of whoever sent the workbook (else the department head)",
        "file": "the returned file's name",
        "problems": "the points to fix, one numbered line each",
        "problem_count": "how many points to fix",
        "error_count": "how many of them are errors",
        "warning_count": "how many of them are warnings",
        "original_subject": "the subject of the message the workbook came with",
    },
    "decisions": {
        "initiative_count": "how many initiatives the department has in the master",
        "decided_count": "how many of them finance has decided on",
        "undecided_count": "how many are not decided yet",
        "approved_count": "how many are approved (as requested or with changes)",
        "changed_count": "how many of those are approved with changes",
        "revise_count": "how many are sent back for revision",
        "rejected_count": "how many are rejected",
        "requested_budget": "the budget requested, all initiatives",
        "approved_budget": "the budget approved",
        "requested_headcount": "the headcount requested",
        "approved_headcount": "the headcount approved",
        "decisions": "one line per initiative: id, title, decision, approved amounts, comment",
        "undecided_line": "a sentence on the initiatives not decided yet (empty when all are)",
    },
}


@dataclass(frozen=True)
class MessageTemplate:
    """A parsed text template: subject and body, each a ``string.Template``."""

    name: str
    subject: str
    body: str

    @classmethod
    def parse(cls, text: str, name: str) -> MessageTemplate:
        text = text.replace("\r\n", "\n").lstrip("\ufeff")
        head, sep, body = text.partition("\n\n")
        subject = ""
        for line in head.splitlines():
            label, colon, value = line.partition(":")
            if colon and label.strip().casefold() == "subject":
                subject = value.strip()
        if not sep or not subject:
            raise MailError(
                f"{name}: a message template starts with a 'Subject: ...' line, then a blank line, then the body"
            )
        return cls(name, subject, body.strip("\n") + "\n")

    def placeholders(self) -> set[str]:
        found: set[str] = set()
        for part in (self.subject, self.body):
            # Template.is_valid() and get_identifiers() are Python 3.11's; this is what they do, on 3.10 too.
            for m in string.Template.pattern.finditer(part):
                if m.group("invalid") is not None:
                    raise MailError(f"{self.name}: a '$' that is not a ${{placeholder}}; write $$ for a dollar sign")
                if m.group("named") or m.group("braced"):
                    found.add(m.group("named") or m.group("braced"))
        return found

    def check(self, kind: str) -> None:
        known = {**PLACEHOLDERS["common"], **PLACEHOLDERS.get(kind, {})}
        unknown = sorted(self.placeholders() - set(known))
        if unknown:
            raise MailError(
                f"{self.name}: unknown placeholder(s) {', '.join('${' + u + '}' for u in unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )

    def render(self, values: Mapping[str, object]) -> tuple[str, str]:
        text = {k: "" if v is None else str(v) for k, v in values.items()}
        try:
            subject = string.Template(self.subject).substitute(text)
            body = string.Template(self.body).substitute(text)
        except (KeyError, ValueError) as exc:
            raise MailError(f"{self.name}: cannot fill placeholder {exc}") from None
        return " ".join(subject.split()), body


@dataclass(frozen=True)
class MailSettings:
    """Who messages come from and go to besides the head, and where the text templates are."""

    sender: str
    cc: tuple[str, ...] = ()
    reply_to: tuple[str, ...] = ()
    templates: Mapping[str, str] = field(default_factory=dict)  # kind -> file path or inline text
    base_dir: Path | None = None  # the strategy's folder: template file names are relative to it

    def template(self, kind: str, override: str | Path | None = None) -> MessageTemplate:
        if override:
            path = Path(override)
            if not path.is_file():
                raise MailError(f"message template {path} not found")
            found = MessageTemplate.parse(path.read_text(encoding="utf-8"), str(path))
        else:
            found = self._configured(kind) or _bundled(kind)
        found.check(kind)
        return found

    def _configured(self, kind: str) -> MessageTemplate | None:
        value = self.templates.get(kind)
        if value:
            if "\n" in value:
                return MessageTemplate.parse(value, f"strategy email.{kind}")
            path = Path(value) if self.base_dir is None else self.base_dir / value
            if not path.is_file():
                raise MailError(f"strategy email.{kind}: template file {path} not found")
            return MessageTemplate.parse(path.read_text(encoding="utf-8"), str(path))
        if self.base_dir is not None:
            beside = self.base_dir / f"email_{kind}.txt"
            if beside.is_file():
                return MessageTemplate.parse(beside.read_text(encoding="utf-8"), str(beside))
        return None


def _bundled(kind: str) -> MessageTemplate:
    from importlib import resources

    name = f"email_{kind}.txt"
    text = resources.files("cascadebook.workbook_templates").joinpath(name).read_text(encoding="utf-8")
    return MessageTemplate.parse(text, name)


def _addresses(values: Iterable[str], what: str) -> tuple[str, ...]:
    found = []
    for value in values:
        for name, addr in getaddresses([value]):
            if not addr:
                continue
            if "@" not in addr or " " in addr:
                raise MailError(f"{what}: {addr!r} is not an e-mail address")
            found.append(str(Address(display_name=name, addr_spec=addr)) if name else addr)
    return tuple(found)


def _listed(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v]
    return [str(value)]


def strategy_email_section(strategy_path: str | Path | None) -> dict:
    """The ``email:`` mapping of a YAML strategy (other formats have none)."""
    if strategy_path is None or Path(strategy_path).suffix.lower() not in (".yaml", ".yml"):
        return {}
    import yaml

    try:
        data = yaml.safe_load(Path(strategy_path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    section = data.get("email") if isinstance(data, dict) else None
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise MailError(f"{Path(strategy_path).name}: 'email' must be a mapping (from, cc, reply_to, request, ...)")
    return section


def mail_settings(
    strategy: Strategy,
    strategy_path: str | Path | None = None,
    *,
    sender: str | None = None,
    cc: Sequence[str] = (),
    reply_to: Sequence[str] = (),
) -> MailSettings:
    """Settings from the strategy (contact, ``email:`` section) with command-line values on top."""
    section = strategy_email_section(strategy_path)
    default_sender = (
        str(Address(display_name=strategy.contact_name, addr_spec=strategy.contact_email))
        if strategy.contact_name and strategy.contact_email
        else strategy.contact_email
    )
    chosen = sender or section.get("from") or default_sender
    senders = _addresses([str(chosen or "")], "sender")
    if not senders:
        raise MailError("no sender: give --from or a contact_email in the strategy")
    return MailSettings(
        sender=senders[0],
        cc=_addresses(list(cc) or _listed(section.get("cc")), "cc"),
        reply_to=_addresses(list(reply_to) or _listed(section.get("reply_to")), "reply-to"),
        templates={k: str(section[k]) for k in KINDS if section.get(k)},
        base_dir=Path(strategy_path).absolute().parent if strategy_path else None,
    )


def format_date(value: date | None) -> str:
    if value is None:
        return "the deadline"
    return f"{value:%A} {value.day} {value:%B %Y}"


def common_values(strategy: Strategy, department: Department, attachment: str = "", spec=None) -> dict[str, str]:

    spec = spec or load_spec("department")
    contact = (
        f"{strategy.contact_name} <{strategy.contact_email}>"
        if strategy.contact_name and strategy.contact_email
        else strategy.contact_email or strategy.contact_name
    )
    return {
        "cycle": strategy.cycle,
        "company": strategy.company,
        "department": department.name,
        "department_code": department.code,
        "head": department.head or department.name,
        "head_email": department.email,
        "deadline": format_date(strategy.response_deadline),
        "deadline_iso": strategy.response_deadline.isoformat() if strategy.response_deadline else "",
        "contact": contact,
        "contact_name": strategy.contact_name or strategy.contact_email,
        "contact_email": strategy.contact_email,
        "objectives": "\n".join(f"- {o.id}  {o.title}" for o in strategy.objectives),
        "what_to_fill": "\n".join(f"- {s.title}: {' '.join(s.intro.split())}" for s in spec.sheets),
        "vision": strategy.vision,
        "mission": strategy.mission,
        "attachment": attachment,
    }


def head_address(department: Department) -> str:
    if not department.email:
        raise MailError(f"department {department.code} has no e-mail address in the strategy")
    try:
        return str(Address(display_name=department.head, addr_spec=department.email))
    except (ValueError, IndexError):
        raise MailError(f"department {department.code}: {department.email!r} is not an e-mail address") from None


def build_message(
    settings: MailSettings,
    *,
    to: Sequence[str],
    subject: str,
    body: str,
    attachments: Sequence[Path] = (),
    kind: str = "",
    cycle: str = "",
    department: str = "",
    in_reply_to: str = "",
    cc: Sequence[str] | None = None,
) -> EmailMessage:
    """A plain-text message with workbooks attached under their spreadsheet MIME types.

    An attachment written in the same ``atomic.all_or_nothing`` block is read from its staged file."""

    msg = EmailMessage(policy=policy.default)
    msg["From"] = settings.sender
    msg["To"] = ", ".join(to)
    cc = settings.cc if cc is None else cc
    if cc:
        msg["Cc"] = ", ".join(cc)
    if settings.reply_to:
        msg["Reply-To"] = ", ".join(settings.reply_to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    domain = parseaddr(settings.sender)[1].rpartition("@")[2] or None
    msg["Message-ID"] = make_msgid(idstring=f"{cycle}.{department}.{kind}".strip(".") or None, domain=domain)
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg["X-Mailer"] = MAILER
    if kind:
        msg["X-Cascadebook"] = f"{kind}; cycle={cycle}; department={department}"
    msg.set_content(body)
    for path in attachments:
        mime = MIME_BY_SUFFIX.get(suffix_of(path.name), XLSX_MIME if path.suffix == "" else "application/octet-stream")
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(staged(path).read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return msg


def as_draft(msg: EmailMessage) -> bytes:
    """The message as an .eml draft: Outlook opens it ready to send (X-Unsent), Thunderbird too."""
    draft = _copy(msg)
    if "X-Unsent" not in draft:
        draft["X-Unsent"] = "1"
    return draft.as_bytes(policy=policy.SMTP)


def _copy(msg: EmailMessage) -> EmailMessage:
    from email import message_from_bytes

    return message_from_bytes(msg.as_bytes(policy=policy.SMTP), policy=policy.default)


def write_eml(msg: EmailMessage, path: str | Path) -> Path:

    path = Path(path)
    write_bytes_atomic(path, as_draft(msg))
    return path


@dataclass
class Outgoing:
    """One message to send, with what the send log needs to recognise it on a re-run."""

    kind: str
    cycle: str
    department: str
    message: EmailMessage
    attachment: Path | None = None
    sha256: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.cycle}:{self.department}"

    @property
    def to(self) -> list[str]:
        return [a for _, a in getaddresses(self.message.get_all("To", []))]

    @property
    def cc(self) -> list[str]:
        return [a for _, a in getaddresses(self.message.get_all("Cc", []))]

    @property
    def recipients(self) -> list[str]:
        return self.to + [a for a in self.cc if a not in self.to]

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def eml_name(self) -> str:
        suffix = "" if self.kind == "request" else f" {self.kind}"
        return f"{self.cycle}_{self.department}{suffix}.eml"


def find_templates(strategy: Strategy, outbox: str | Path, *, spec=None, key: bytes | None = None) -> dict[str, Path]:
    """Department code -> its template in OUTBOX, recognised by metadata (the file name is not trusted).

    A template of another cycle, generated before the objectives changed, or whose signature does
    not match is never picked: sending it would only produce a rejected return.
    """
    from cascadebook.intake.reader import read_return  # lazy for start-up: send needs calamine only here

    outbox = Path(outbox)
    if not outbox.is_dir():
        raise MailError(f"{outbox} is not a folder of templates (run: cascadebook generate STRATEGY -o {outbox})")
    spec = spec or load_spec("department")
    found: dict[str, Path] = {}
    for path in sorted(outbox.iterdir()):
        if not path.is_file() or path.name.startswith(("~$", ".")) or path.suffix.lower() not in WORKBOOK_SUFFIXES:
            continue
        meta = read_return(path, spec).metadata
        if meta is None or meta.cycle != strategy.cycle or meta.kind != "plan":
            continue
        if meta.fingerprint != strategy.fingerprint() or (key is not None and not verify(meta, key)):
            continue
        code = meta.department
        canonical = template_filename(strategy.cycle, code)
        if code not in found or path.name == canonical:
            found[code] = path
    return found


def select_departments(strategy: Strategy, codes: Sequence[str] | None) -> list[Department]:
    if not codes:
        return sorted(strategy.departments, key=lambda d: d.code)
    chosen = []
    for code in codes:
        department = strategy.department(code)
        if department is None:
            raise MailError(
                f"unknown department code {code!r} (known: {', '.join(d.code for d in strategy.departments)})"
            )
        if department not in chosen:
            chosen.append(department)
    return chosen


def plan_requests(
    strategy: Strategy,
    outbox: str | Path,
    settings: MailSettings,
    *,
    spec=None,
    key: bytes | None = None,
    departments: Sequence[str] | None = None,
    template: str | Path | None = None,
    links: Mapping[str, str] | None = None,
    link_only: bool = False,
) -> list[Outgoing]:
    """One request message per department, its template attached; every problem is raised before any is built.

    ``links``: department code -> its intake portal link, put where the text has ``${portal_link}``, or
    else in a paragraph after the body (beside the attachment). ``link_only``: the link instead of the
    attachment (the ``request_portal`` text; the template is downloaded from the portal page)."""
    chosen = select_departments(strategy, departments)
    if link_only and not links:
        raise MailError("a message with the portal link instead of the template needs the links (send --portal-url)")
    tpl = settings.template("request_portal" if link_only else "request", template)
    templates = find_templates(strategy, outbox, spec=spec, key=key)
    missing = [d.code for d in chosen if d.code not in templates]
    if missing:
        raise MailError(
            f"no current template for {', '.join(missing)} in {outbox} (run: cascadebook generate STRATEGY -o {outbox})"
        )
    heads = {d.code: head_address(d) for d in chosen}
    planned = []
    for department in chosen:
        path = templates[department.code]
        values = common_values(strategy, department, path.name, spec)
        values["portal_link"] = link = (links or {}).get(department.code, "")
        subject, body = tpl.render(values)
        if link and "portal_link" not in tpl.placeholders():
            body += f"\nYou can also upload it on your own page, where it is checked at once:\n{link}\n"
        msg = build_message(
            settings,
            to=[heads[department.code]],
            subject=subject,
            body=body,
            attachments=[] if link_only else [path],
            kind="request",
            cycle=strategy.cycle,
            department=department.code,
        )
        planned.append(
            Outgoing(
                "request", strategy.cycle, department.code, msg, path, hashlib.sha256(path.read_bytes()).hexdigest()
            )
        )
    return planned


def write_drafts(outgoing: Sequence[Outgoing], folder: str | Path) -> list[Path]:
    folder = Path(folder)
    return [write_eml(item.message, folder / item.eml_name) for item in outgoing]
