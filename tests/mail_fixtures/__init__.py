"""Shared pieces of the mail tests: a cycle in a temp folder, a real SMTP server, mail builders."""

from __future__ import annotations

import atexit
import datetime as dt
import shutil
import socket
import ssl
import tempfile
import threading
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest

from cascadebook import generate, load_strategy
from fill import fill_workbook

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_STRATEGY = ROOT / "samples" / "strategy.yaml"
KEY = b"mail-tests-key"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UTC = dt.timezone.utc


def initiative(objective: str, title: str, baseline: float, target: float, **extra) -> dict:
    row = dict(
        objective_id=objective,
        title=title,
        expected_impact=f"{title}: measurable result",
        metric="Metric",
        unit="count",
        baseline=baseline,
        target=target,
        due_period="Q3",
        owner="Owner Name",
    )
    row.update(extra)
    return row


def kpi(initiative_id: str, name: str, **extra) -> dict:
    row = dict(
        initiative_id=initiative_id,
        level="Team",
        team="Team A",
        owner="Kpi Owner",
        name=name,
        unit="count",
        baseline=1,
        target=5,
        frequency="Monthly",
        due_period="Q4",
    )
    row.update(extra)
    return row


def clean_rows(code: str, title: str = "Plan") -> dict:
    return {
        "initiatives": [initiative("CO1", f"{code} {title}", 10, 20)],
        "kpis": [kpi(f"{code}-I01", f"{code} {title} KPI")],
    }


_GENERATED: dict[str, list[Path]] = {}


def _generated(strategy) -> list[Path]:
    """The sample strategy's signed templates, generated once (they are deterministic for a fixed time)."""
    if "sample" not in _GENERATED:
        folder = Path(tempfile.mkdtemp(prefix="cascadebook-mail-tests-"))
        atexit.register(shutil.rmtree, folder, True)
        _GENERATED["sample"] = generate(strategy, folder, key=KEY, generated_at="2027-01-04T09:00:00+00:00")
    return _GENERATED["sample"]


class Cycle:
    """A strategy in a temp folder, its signed templates in outbox/, and a way to fill them."""

    def __init__(self, root: Path):
        self.root = root
        self.strategy_path = root / "strategy.yaml"
        shutil.copyfile(SAMPLE_STRATEGY, self.strategy_path)
        self.strategy = load_strategy(self.strategy_path)
        self.outbox = root / "outbox"
        self.outbox.mkdir()
        for source in _generated(self.strategy):  # generated once per test session, copied per test
            shutil.copy2(source, self.outbox / source.name)
        self.templates = {p.stem.split("_")[-1]: p for p in sorted(self.outbox.glob("*.xlsx"))}
        self.returned = root / "returned"
        self.returned.mkdir()

    def fill(self, code: str, name: str | None = None, *, saved_at: dt.datetime | None = None, **kwargs) -> Path:
        kwargs.setdefault("rows", clean_rows(code))
        return fill_workbook(
            self.templates[code], self.returned / (name or f"{code}.xlsx"), saved_at=saved_at, **kwargs
        )

    def head(self, code: str) -> str:
        return self.strategy.department(code).email


@pytest.fixture
def cycle(tmp_path, monkeypatch) -> Cycle:
    monkeypatch.setenv("CASCADEBOOK_KEY", KEY.decode())  # what the CLI's load_key finds
    monkeypatch.setenv("CASCADEBOOK_CACHE", str(tmp_path / "cache"))
    return Cycle(tmp_path)


# ------------------------------------------------------------------ building mail


def message(
    sender: str,
    subject: str,
    date: dt.datetime,
    attachments: list[tuple[str, bytes, str]] = (),
    body: str = "Please find it attached.",
    to: str = "strategy@northwind.example",
) -> EmailMessage:
    msg = EmailMessage(policy=policy.default)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = make_msgid(domain="northwind.example")
    msg.set_content(body)
    for name, data, mime in attachments:
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


# ------------------------------------------------------------------ a real SMTP server on 127.0.0.1


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost (cryptography), as PEM files."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Received:
    def __init__(self, sender: str, recipients: list[str], data: bytes, user: str):
        from email import message_from_bytes

        self.sender, self.recipients, self.data, self.user = sender, recipients, data, user
        self.message = message_from_bytes(data, policy=policy.default)


class SmtpServer:
    """aiosmtpd on 127.0.0.1 requiring STARTTLS (or implicit TLS) and a login; keeps what it accepts.

    ``fail_from`` makes it answer 421 (service closing) to the n-th message (1-based) and after.
    """

    def __init__(
        self,
        folder: Path,
        *,
        implicit_tls: bool = False,
        user: str = "planner",
        password: str = "s3cret-pw",
        fail_from: int | None = None,
    ):
        self.cert, self.keyfile = make_certificate(folder)
        self.user, self.password = user, password
        self.implicit_tls = implicit_tls
        self.fail_from = fail_from
        self.received: list[Received] = []
        self.port = free_port()
        self._lock = threading.Lock()
        self._count = 0

    # handler
    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self._count += 1
            if self.fail_from is not None and self._count >= self.fail_from:
                return "421 4.3.0 Service shutting down"
            user = getattr(session, "auth_data", None)
            self.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.original_content or envelope.content,
                    getattr(user, "login", b"").decode(),
                )
            )
        return "250 2.0.0 OK"

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.user
            and auth_data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def __enter__(self) -> SmtpServer:
        from aiosmtpd.controller import Controller

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.keyfile)
        kwargs = dict(
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self._authenticate,
            auth_require_tls=True,
            auth_required=True,
            ready_timeout=10,
        )
        if self.implicit_tls:  # aiosmtpd does not see implicit TLS as TLS for auth_require_tls
            kwargs.update(ssl_context=context, auth_require_tls=False)
        else:
            kwargs.update(tls_context=context, require_starttls=True)
        self.controller = Controller(self, **kwargs)
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
