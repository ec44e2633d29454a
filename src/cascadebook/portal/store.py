"""The portal's state: uploaded files on disk, content-addressed, and who uploaded what in a database.

Files live under ``<cycle>/portal/files/<sha[:2]>/<sha256><suffix>``: the name a person gave a file never
reaches a path. A file is written to a temporary name, flushed and fsynced, renamed into place and its
folder fsynced *before* the row that names it commits, so a crash leaves at worst an orphan file (the
same bytes are reused by the next upload of them), never a row without its file. Rows are never
updated: a re-upload is a new row, and newest wins as everywhere else.

The schema is created and upgraded by Alembic (``portal/migrations``) when the store opens, on SQLite
(a file in the cycle folder) or PostgreSQL alike (SQLAlchemy Core).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Engine

from cascadebook.atomic import fsync_folder
from cascadebook.findings import Finding
from cascadebook.inbox.sources import Input
from cascadebook.model import Origin

PORTAL_DIR = "portal"
DATABASE_FILE = "portal.sqlite3"
UPLOAD_SOURCE = "portal upload"  # Origin.source of a stored upload: says where it came from in the master

metadata = MetaData()
uploads = Table(
    "uploads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cycle", String(100), nullable=False, index=True),
    Column("department", String(100), nullable=False, index=True),
    Column("sha256", String(64), nullable=False),
    Column("suffix", String(8), nullable=False),
    Column("size", Integer, nullable=False),
    Column("filename", String(255), nullable=False),  # shown to people; never a path
    Column("uploaded_at", String(40), nullable=False),  # ISO UTC: the file's "received" time
    Column("status", String(40), nullable=False),  # reconcile's status for the file on its own
    Column("errors", Integer, nullable=False),
    Column("warnings", Integer, nullable=False),
    Column("findings", Text, nullable=False),  # JSON list of Finding.to_dict()
)
revocations = Table(
    "revocations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cycle", String(100), nullable=False),
    Column("department", String(100), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("revoked_at", String(40), nullable=False),
)
audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("cycle", String(100), nullable=False),
    Column("actor", String(100), nullable=False),  # a department code, "office" or "server"
    Column("action", String(60), nullable=False),
    Column("department", String(100), nullable=False),
    Column("detail", Text, nullable=False),
)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()+-]+")


def display_name(filename: str) -> str:
    """The name shown for an upload: its last component, harmless characters only, at most 120."""
    base = re.split(r"[\\/]", filename or "")[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" .") or "upload"
    return cleaned[-120:]


@dataclass(frozen=True)
class Upload:
    """One stored upload, as its row says."""

    id: int
    cycle: str
    department: str
    sha256: str
    suffix: str
    size: int
    filename: str
    uploaded_at: str
    status: str
    errors: int
    warnings: int
    findings: list[dict[str, Any]]

    @property
    def name(self) -> str:
        """The file name reconcile reports it under (findings, Sources): the same from the portal and the CLI."""
        return upload_name(self.department, self.uploaded_at, self.filename)


def upload_name(department: str, uploaded_at: str, filename: str) -> str:
    stamp = re.sub(r"[^0-9T]", "", uploaded_at.split("+")[0])
    return f"portal/{department}/{stamp}_{filename}"


def default_url(cycle_dir: str | Path) -> str:
    return f"sqlite:///{(Path(cycle_dir).absolute() / PORTAL_DIR / DATABASE_FILE).as_posix()}"


class Store:
    """The files folder and the database of one cycle folder."""

    def __init__(self, cycle_dir: str | Path, url: str | None = None, *, migrate: bool = True) -> None:
        self.root = Path(cycle_dir).absolute() / PORTAL_DIR
        self.files = self.root / "files"
        self.tmp = self.root / "tmp"
        for folder in (self.root, self.files, self.tmp):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for stale in self.tmp.iterdir():  # an upload being checked or stored when the server stopped
            if stale.is_file() and stale.stat().st_mtime < time.time() - 3600:
                stale.unlink(missing_ok=True)
        self.url = url or default_url(cycle_dir)
        self.engine = _engine(self.url)
        if migrate:
            from cascadebook.portal.migrate import upgrade

            upgrade(self.engine)

    # ---- files ---------------------------------------------------------------------------------

    def path_of(self, sha256: str, suffix: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256) or not re.fullmatch(r"\.[a-z]{3,4}", suffix):
            raise ValueError("not a stored file")
        return self.files / sha256[:2] / f"{sha256}{suffix}"

    def staging(self, suffix: str) -> Path:
        """A fresh temporary path for bytes being checked (random name, the workbook's suffix)."""
        return self.tmp / f"{secrets.token_hex(16)}{suffix}"

    def put(self, data: bytes, suffix: str) -> tuple[str, Path]:
        """Store ``data`` under its sha256, durably (fsynced file and folder); returns (sha256, path)."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.path_of(sha, suffix)
        if target.is_file() and target.stat().st_size == len(data):
            return sha, target
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.staging(suffix)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        fsync_folder(target.parent)
        return sha, target

    # ---- rows ----------------------------------------------------------------------------------

    def record(
        self,
        *,
        cycle: str,
        department: str,
        sha256: str,
        suffix: str,
        size: int,
        filename: str,
        uploaded_at: str,
        status: str,
        findings: list[Finding],
    ) -> int:
        """Insert an upload's row (its file already stored) and an audit line, in one transaction."""
        errors = sum(1 for f in findings if f.severity.value == "error")
        warnings = sum(1 for f in findings if f.severity.value == "warning")
        with self.engine.begin() as conn:
            inserted = conn.execute(
                insert(uploads).values(
                    cycle=cycle,
                    department=department,
                    sha256=sha256,
                    suffix=suffix,
                    size=size,
                    filename=filename,
                    uploaded_at=uploaded_at,
                    status=status,
                    errors=errors,
                    warnings=warnings,
                    findings=json.dumps([f.to_dict() for f in findings], default=str),
                )
            ).inserted_primary_key
            assert inserted is not None  # an INSERT of one row always has its key
            conn.execute(
                insert(audit).values(
                    at=uploaded_at,
                    cycle=cycle,
                    actor=department,
                    action="upload",
                    department=department,
                    detail=f"{filename} ({size} bytes, sha256 {sha256[:12]}…): {errors} error(s), {warnings} warning(s)",
                )
            )
        return int(inserted[0])

    def log(self, cycle: str, actor: str, action: str, department: str = "", detail: str = "") -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(audit).values(
                    at=now_iso(), cycle=cycle, actor=actor, action=action, department=department, detail=detail
                )
            )

    def uploads(self, cycle: str, department: str | None = None) -> list[Upload]:
        """The cycle's uploads (one department's with ``department``), oldest first."""
        query = select(uploads).where(uploads.c.cycle == cycle).order_by(uploads.c.id)
        if department is not None:
            query = query.where(uploads.c.department == department)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [Upload(**{**row, "findings": json.loads(row["findings"])}) for row in rows]

    def count(self, cycle: str, department: str) -> int:
        query = select(func.count()).select_from(uploads).where(uploads.c.cycle == cycle)
        with self.engine.connect() as conn:
            return int(conn.execute(query.where(uploads.c.department == department)).scalar_one())

    def audit_log(self, cycle: str, limit: int = 200) -> list[dict[str, Any]]:
        query = select(audit).where(audit.c.cycle == cycle).order_by(audit.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings().all()]

    def generation(self, cycle: str, department: str) -> int:
        """The department's current link generation: one more than the last revoked (1 at first)."""
        query = select(func.max(revocations.c.generation)).where(
            revocations.c.cycle == cycle, revocations.c.department == department
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one() or 0) + 1

    def revoke(self, cycle: str, department: str) -> int:
        """Revoke the department's current link; returns the new generation."""
        generation = self.generation(cycle, department)
        with self.engine.begin() as conn:
            conn.execute(
                insert(revocations).values(
                    cycle=cycle, department=department, generation=generation, revoked_at=now_iso()
                )
            )
            conn.execute(
                insert(audit).values(
                    at=now_iso(),
                    cycle=cycle,
                    actor="office",
                    action="revoke-link",
                    department=department,
                    detail=f"link generation {generation} revoked",
                )
            )
        return generation + 1

    # ---- as reconcile's inputs ------------------------------------------------------------------

    def inputs(self, cycle: str) -> list[Input]:
        """Every stored upload of the cycle as reconcile's input, its upload time as its received time:
        what the office's board and master, and ``reconcile --from-portal``, read."""
        return [
            Input(
                self.path_of(u.sha256, u.suffix),
                u.name,
                Origin(UPLOAD_SOURCE, date=u.uploaded_at, subject=f"upload #{u.id}"),
            )
            for u in self.uploads(cycle)
        ]

    def dispose(self) -> None:
        self.engine.dispose()


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

        return engine
    if url.startswith(("postgresql://", "postgres://")):  # the psycopg (3) driver, not SQLAlchemy's default psycopg2
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
