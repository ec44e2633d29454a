"""Sending over SMTP with a send log, so a re-run resumes instead of sending anything twice.

The log is JSON lines, one event per line, each appended with a single write and fsync'd
before the next message goes out:

    {"event": "sending", "key": "request:FY2027:MKT", ...}   before the message is handed to the server
    {"event": "sent", ...}                                    once the server accepted it
    {"event": "failed", "error": "...", ...}                  the server refused it (safe to retry)

A message whose last event is ``sending`` was interrupted while the server had it: it may have
been delivered. It is never retried automatically; ``resend`` sends it again on purpose.
"""

from __future__ import annotations

import json
import os
import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parseaddr
from pathlib import Path

from cascadebook.atomic import fsync_folder
from cascadebook.inbox.common import MailError
from cascadebook.mail.compose import Outgoing

SECURITY = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
PASSWORD_ENV = "CASCADEBOOK_SMTP_PASSWORD"
LOG_NAME = "send-log.jsonl"


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int | None = None
    security: str = "starttls"  # starttls, ssl (implicit TLS), none
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0
    cafile: str | None = None  # trust this CA (or self-signed certificate) besides the system's

    def __post_init__(self) -> None:
        if self.security not in SECURITY:
            raise MailError(f"security must be one of {', '.join(SECURITY)}, not {self.security!r}")
        if not self.host:
            raise MailError("no SMTP host given (--smtp-host or CASCADEBOOK_SMTP_HOST)")
        if self.username and self.security == "none":
            raise MailError("refusing to send the SMTP password unencrypted: use --security starttls or ssl")

    @property
    def resolved_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]

    @property
    def where(self) -> str:
        return f"{self.host}:{self.resolved_port}"

    def context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.cafile)
        except (OSError, ssl.SSLError) as exc:
            raise MailError(f"cannot use the CA file {self.cafile}: {exc}") from None


class SendLog:
    """An append-only JSON-lines log; a torn last line (a crash mid-write) is ignored."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def entries(self) -> list[dict]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        found = []
        for line in raw.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and "key" in entry:
                found.append(entry)
        return found

    def last(self) -> dict[str, dict]:
        """Each key's latest event."""
        latest: dict[str, dict] = {}
        for entry in self.entries():
            latest[entry["key"]] = entry
        return latest

    def append(self, entry: dict) -> None:
        line = (json.dumps(entry, sort_keys=True, default=str) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        existed = self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if existed and self.path.stat().st_size:
                with open(self.path, "rb") as handle:  # a torn line must not swallow this one
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) != b"\n":
                        line = b"\n" + line
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        if not existed:
            fsync_folder(self.path.parent)


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class SendReport:
    sent: list[Outgoing] = field(default_factory=list)
    already: list[tuple[Outgoing, dict]] = field(default_factory=list)  # the log says it was sent
    uncertain: list[tuple[Outgoing, dict]] = field(default_factory=list)  # interrupted while sending
    failed: list[tuple[Outgoing, str]] = field(default_factory=list)  # refused; a re-run retries it
    pending: list[Outgoing] = field(default_factory=list)  # not tried (dry run, or the run stopped)
    stopped: str = ""  # why the run stopped early, if it did

    @property
    def ok(self) -> bool:
        return not (self.failed or self.uncertain or self.stopped)


Event = Callable[[str, Outgoing, str], None]  # (what, message, detail)


def plan_state(outgoing: Sequence[Outgoing], log: SendLog, *, resend: bool = False) -> SendReport:
    """Sort messages by what the log says, without sending: this is also the dry run."""
    report = SendReport()
    latest = log.last()
    for item in outgoing:
        entry = latest.get(item.key)
        state = entry.get("event") if entry else None
        if resend or state in (None, "failed", "skipped"):
            report.pending.append(item)
        elif state == "sent":
            report.already.append((item, entry))
        else:
            report.uncertain.append((item, entry))
    return report


def _entry(item: Outgoing, event: str, config: SmtpConfig | None, **extra) -> dict:
    return {
        "event": event,
        "key": item.key,
        "kind": item.kind,
        "cycle": item.cycle,
        "department": item.department,
        "to": item.to,
        "cc": item.cc,
        "subject": item.subject,
        "message_id": str(item.message.get("Message-ID", "")),
        "attachment": item.attachment.name if item.attachment else "",
        "sha256": item.sha256,
        "server": config.where if config else "",
        "at": _now(),
        **extra,
    }


def connect(config: SmtpConfig) -> smtplib.SMTP:
    """An open, authenticated connection, or a MailError saying why not."""
    try:
        if config.security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                config.host, config.resolved_port, timeout=config.timeout, context=config.context()
            )
        else:
            server = smtplib.SMTP(config.host, config.resolved_port, timeout=config.timeout)
        try:
            server.ehlo()
            if config.security == "starttls":
                if not server.has_extn("starttls"):
                    raise MailError(
                        f"{config.where} does not offer STARTTLS; use --security ssl, or none "
                        "for a server without encryption"
                    )
                server.starttls(context=config.context())
                server.ehlo()
            if config.username:
                server.login(config.username, config.password)
        except BaseException:
            _close(server)
            raise
        return server
    except MailError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"{config.where} refused the login of {config.username!r}: {_smtp_text(exc)}") from None
    except ssl.SSLCertVerificationError as exc:
        raise MailError(
            f"{config.where}: the server's certificate is not trusted ({exc.verify_message}); give its CA with --cafile"
        ) from None
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        raise MailError(f"cannot connect to {config.where}: {_smtp_text(exc)}") from None


def _close(server: smtplib.SMTP) -> None:
    try:
        server.quit()
    except (smtplib.SMTPException, OSError):
        server.close()


def _smtp_text(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}".strip()
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{addr}: {_smtp_text(smtplib.SMTPResponseException(code, msg))}"
            for addr, (code, msg) in exc.recipients.items()
        )
    return str(exc) or type(exc).__name__


def send_all(
    outgoing: Sequence[Outgoing],
    config: SmtpConfig,
    log: SendLog,
    *,
    resend: bool = False,
    on_event: Event | None = None,
) -> SendReport:
    """Send every message the log does not already account for, over one connection.

    A message the server refuses (bad recipient, 5xx) is logged as failed and the run goes on;
    losing the connection or a temporary (4xx) refusal stops the run, the rest stays pending, and
    running the same command again sends exactly what is left.
    """
    report = plan_state(outgoing, log, resend=resend)
    todo, report.pending = report.pending, []
    if not todo:
        return report
    server = connect(config)
    try:
        for index, item in enumerate(todo):
            sender = parseaddr(str(item.message["From"]))[1]
            log.append(_entry(item, "sending", config))
            try:
                refused = server.send_message(item.message, from_addr=sender, to_addrs=item.recipients)
            except (
                smtplib.SMTPRecipientsRefused,
                smtplib.SMTPDataError,
                smtplib.SMTPSenderRefused,
                smtplib.SMTPNotSupportedError,
            ) as exc:
                text = _smtp_text(exc)
                log.append(_entry(item, "failed", config, error=text))
                report.failed.append((item, text))
                if on_event:
                    on_event("failed", item, text)
                temporary = isinstance(exc, smtplib.SMTPResponseException) and 400 <= exc.smtp_code < 500
                if temporary or isinstance(exc, smtplib.SMTPSenderRefused):
                    report.stopped = f"{config.where} answered {text}"
                    report.pending.extend(todo[index + 1 :])
                    break
                continue
            except (smtplib.SMTPException, OSError) as exc:
                text = _smtp_text(exc)
                log.append(_entry(item, "failed", config, error=text))
                report.failed.append((item, text))
                report.stopped = f"lost the connection to {config.where}: {text}"
                report.pending.extend(todo[index + 1 :])
                if on_event:
                    on_event("failed", item, text)
                break
            except BaseException:  # Ctrl-C or a crash while the server had the message: it stays "sending"
                report.uncertain.append((item, {"event": "sending"}))
                raise
            detail = f"refused by some recipients: {', '.join(refused)}" if refused else ""
            log.append(_entry(item, "sent", config, refused=sorted(refused)))
            report.sent.append(item)
            if on_event:
                on_event("sent", item, detail)
    finally:
        _close(server)
    return report
