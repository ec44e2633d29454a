"""The portal's routes (Starlette): a page per department and one for the strategy office.

Pages are rendered on the server and work without JavaScript (portal.js only adds drag and drop and
sends the form when a file is chosen). Every secret is in the path and checked in constant time
(``tokens``); a wrong one is a plain 404, whichever part was wrong. Every form carries a CSRF token
bound to a cookie. An upload is bounded by the request limit (``security.Guard``) and the department's
upload count, checked by ``checks.Checker`` (the code reconcile runs), and stored (``store``) only
when reconcile would take it for that department.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
from collections.abc import AsyncIterator
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from cascadebook.findings import Finding
from cascadebook.kinds import WORKBOOK_SUFFIXES
from cascadebook.mail.compose import format_date
from cascadebook.model import Strategy
from cascadebook.portal import tokens
from cascadebook.portal.checks import Checked, Checker
from cascadebook.portal.office import Office
from cascadebook.portal.security import Guard, TooLarge
from cascadebook.portal.store import UPLOAD_SOURCE, Store, display_name, now_iso, upload_name
from cascadebook.spec.schema import Spec, spec_candidates

HERE = Path(__file__).resolve().parent
CSRF_COOKIE = "cascadebook_csrf"
MAX_REQUEST = 10 * 1024 * 1024  # bytes of one request: a filled template is a few hundred KB
MAX_UPLOADS = 50  # per department and cycle


@dataclass
class Portal:
    """What the routes need: the cycle, its key, the store and the limits."""

    strategy: Strategy
    strategy_path: Path
    spec: Spec
    key: bytes
    store: Store
    public_url: str = ""
    max_request: int = MAX_REQUEST
    max_uploads: int = MAX_UPLOADS
    check_workers: int = 0  # 0: check in a thread (tests); n: a pool of n processes (serve)
    today: date | None = None  # fixed in tests; else the server's date
    office: Office = field(init=False)
    checker: Checker = field(init=False)

    def __post_init__(self) -> None:
        specs = tuple(spec_candidates(self.spec, self.strategy.source or None))
        self.checker = Checker(self.strategy, self.spec, specs, self.key)
        self.office = Office(self.strategy, self.strategy_path, self.spec, self.key, self.store, clock=self.date)

    @property
    def cycle(self) -> str:
        return self.strategy.cycle

    def base(self, request: Request | None = None) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        return str(request.base_url).rstrip("/") if request is not None else ""

    def department_link(self, code: str, request: Request | None = None) -> str:
        token = tokens.department_token(self.key, self.cycle, code, self.store.generation(self.cycle, code))
        return f"{self.base(request)}/d/{code}/{token}"

    def office_link(self, request: Request | None = None) -> str:
        return f"{self.base(request)}/office/{tokens.office_token(self.key, self.cycle)}"

    def date(self) -> date:
        return self.today or date.today()


def create_app(portal: Portal) -> Starlette:
    """The ASGI application for ``portal`` (wrapped by ``security.Guard``: headers and the body limit)."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["findings"] = finding_rows
    executor: list[Executor | None] = [None]

    def department_of(request: Request):
        code, token = request.path_params["code"], request.path_params["token"]
        dep = portal.strategy.department(code)
        if dep is None:
            return None, PlainTextResponse("Not found", status_code=404)
        generation = portal.store.generation(portal.cycle, dep.code)
        verdict = tokens.check_department(
            portal.key, portal.cycle, dep.code, token, generation, portal.strategy.closes_on, portal.date()
        )
        if not verdict.ok:
            if verdict.reason.startswith("the cycle closed"):
                return None, PlainTextResponse(f"This link no longer works: {verdict.reason}.", status_code=410)
            return None, PlainTextResponse("Not found", status_code=404)
        return dep, None

    def csrf_pair(request: Request) -> tuple[str, str | None]:
        """(the form token, a new cookie nonce to set or None)."""
        nonce = request.cookies.get(CSRF_COOKIE)
        fresh = None
        if not nonce or len(nonce) > 64:
            nonce = fresh = secrets.token_urlsafe(24)
        return tokens.csrf_token(portal.key, nonce), fresh

    def render(request: Request, name: str, context: dict, status: int = 200) -> Response:
        csrf, fresh = csrf_pair(request)
        response = templates.TemplateResponse(request, name, {**context, "csrf": csrf}, status_code=status)
        if fresh:
            response.set_cookie(
                CSRF_COOKIE,
                fresh,
                httponly=True,
                samesite="strict",
                secure=portal.base(request).startswith("https://"),
            )
        return response

    def department_page(request: Request, dep, checked: Checked | None = None, status: int = 200) -> Response:
        uploads = list(reversed(portal.store.uploads(portal.cycle, dep.code)))
        return render(
            request,
            "department.html",
            {
                "strategy": portal.strategy,
                "dep": dep,
                "deadline": format_date(portal.strategy.response_deadline),
                "closes": format_date(portal.strategy.closes_on) if portal.strategy.closes_on else "",
                "uploads": uploads,
                "latest": uploads[0] if uploads else None,
                "refused": checked,
                "link": request.url.path,
                "max_mb": max(1, portal.max_request // (1024 * 1024)),
            },
            status,
        )

    async def home(request: Request) -> Response:
        return PlainTextResponse("cascadebook intake portal: open the link you were sent.")

    async def department(request: Request) -> Response:
        dep, refusal = department_of(request)
        if refusal is not None:
            return refusal
        return department_page(request, dep)

    async def template(request: Request) -> Response:
        dep, refusal = department_of(request)
        if refusal is not None:
            return refusal
        path = await asyncio.to_thread(_template_for, portal, dep.code)
        return FileResponse(path, filename=path.name)

    async def upload(request: Request) -> Response:
        dep, refusal = department_of(request)
        if refusal is not None:
            return refusal
        try:
            form = await request.form(max_files=1, max_fields=4)
        except TooLarge:
            raise
        except Exception:  # noqa: BLE001 - a malformed multipart body is the sender's mistake, said as such
            return PlainTextResponse("Upload refused: the form could not be read.", status_code=400)
        if not tokens.check_csrf(portal.key, request.cookies.get(CSRF_COOKIE), str(form.get("csrf") or "")):
            portal.store.log(portal.cycle, dep.code, "refused", dep.code, "form without a valid CSRF token")
            return PlainTextResponse("Upload refused: the form has expired; reload the page.", status_code=403)
        item = form.get("workbook")
        if item is None or isinstance(item, str):
            return PlainTextResponse("Upload refused: no file chosen.", status_code=400)
        if re.search(r"[\\/\x00]|^\.|\.\.", item.filename or ""):  # a browser sends a plain name; this is not one
            portal.store.log(portal.cycle, dep.code, "refused", dep.code, f"file name with a path: {item.filename!r}")
            return PlainTextResponse("Upload refused: the file name must be a plain name.", status_code=400)
        shown = display_name(item.filename or "")
        suffix = Path(shown).suffix.lower()
        if suffix not in WORKBOOK_SUFFIXES:
            return PlainTextResponse("Upload refused: only Excel or OpenDocument workbooks.", status_code=400)
        if portal.store.count(portal.cycle, dep.code) >= portal.max_uploads:
            portal.store.log(portal.cycle, dep.code, "refused", dep.code, "upload limit reached")
            return PlainTextResponse(
                f"Upload refused: {portal.max_uploads} uploads is the limit; ask the strategy office.", status_code=429
            )
        data = await item.read()
        checked, stored = await _check_and_store(portal, executor, dep.code, shown, suffix, data)
        if not stored:
            return department_page(request, dep, checked, status=422)
        return RedirectResponse(request.url.path.rsplit("/upload", 1)[0] + "#latest", status_code=303)

    def office_ok(request: Request) -> bool:
        return tokens.check_office(portal.key, portal.cycle, request.path_params["token"])

    async def office(request: Request) -> Response:
        if not office_ok(request):
            return PlainTextResponse("Not found", status_code=404)
        board = await asyncio.to_thread(portal.office.board)
        return render(
            request,
            "office.html",
            {
                "strategy": portal.strategy,
                "board": board,
                "levels": board.by_level(),
                "links": {d.code: portal.department_link(d.code, request) for d in portal.strategy.departments},
                "audit": portal.store.audit_log(portal.cycle, 50),
                "deadline": format_date(portal.strategy.response_deadline),
                "link": request.url.path,
            },
        )

    async def master(request: Request) -> Response:
        if not office_ok(request):
            return PlainTextResponse("Not found", status_code=404)
        path = await asyncio.to_thread(portal.office.master)
        portal.store.log(portal.cycle, "office", "download-master", "", path.name)
        return FileResponse(path, filename=f"{portal.cycle}_master.xlsx")

    async def reminder(request: Request) -> Response:
        if not office_ok(request):
            return PlainTextResponse("Not found", status_code=404)
        drafts = await asyncio.to_thread(portal.office.reminders)
        path = drafts.get(request.path_params["code"])
        if path is None:
            return PlainTextResponse("No reminder: that department has returned its workbook.", status_code=404)
        return FileResponse(path, filename=path.name, media_type="message/rfc822")

    async def revoke(request: Request) -> Response:
        if not office_ok(request):
            return PlainTextResponse("Not found", status_code=404)
        form = await request.form(max_files=0, max_fields=4)
        if not tokens.check_csrf(portal.key, request.cookies.get(CSRF_COOKIE), str(form.get("csrf") or "")):
            return PlainTextResponse("Refused: the form has expired; reload the page.", status_code=403)
        dep = portal.strategy.department(str(form.get("department") or ""))
        if dep is None:
            return PlainTextResponse("No such department.", status_code=400)
        portal.store.revoke(portal.cycle, dep.code)
        return RedirectResponse(request.url.path.rsplit("/revoke", 1)[0] + "#links", status_code=303)

    async def not_stored(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(
            f"Your workbook was checked but could not be saved ({exc}); please upload it again in a moment.",
            status_code=503,
        )

    async def too_large(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("Upload refused: the request is too large.", status_code=413)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if portal.check_workers > 0:
            executor[0] = ProcessPoolExecutor(max_workers=portal.check_workers)
        try:
            yield
        finally:
            if executor[0] is not None:
                executor[0].shutdown(wait=True)

    routes = [
        Route("/", home),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        Route("/d/{code}/{token}", department),
        Route("/d/{code}/{token}/template", template),
        Route("/d/{code}/{token}/upload", upload, methods=["POST"]),
        Route("/office/{token}", office),
        Route("/office/{token}/master.xlsx", master),
        Route("/office/{token}/reminder/{code}.eml", reminder),
        Route("/office/{token}/revoke", revoke, methods=["POST"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={TooLarge: too_large, NotStored: not_stored},
        lifespan=lifespan,
    )
    return Guard(app, portal.max_request, hsts=portal.public_url.startswith("https://"))  # type: ignore[return-value]


class NotStored(Exception):
    """An upload that passed its checks but could not be stored (disk or database): the head is asked
    to upload again; the file, if written, has no row and is reused by that next upload."""


async def _check_and_store(
    portal: Portal, executor: list[Executor | None], code: str, shown: str, suffix: str, data: bytes
) -> tuple[Checked, bool]:
    """Check the bytes as reconcile would; store them (file first, then the row) only when kept."""
    uploaded_at = now_iso()
    name = upload_name(code, uploaded_at, shown)
    staging = portal.store.staging(suffix)
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    try:
        loop = asyncio.get_running_loop()
        checked = await loop.run_in_executor(
            executor[0], portal.checker, staging, name, code, uploaded_at, UPLOAD_SOURCE
        )
    finally:
        staging.unlink(missing_ok=True)
    if not checked.kept:
        detail = f"{shown}: {checked.refused}"
        await asyncio.to_thread(portal.store.log, portal.cycle, code, "refused", code, detail)
        return checked, False

    def keep() -> None:
        sha, _ = portal.store.put(data, suffix)
        portal.store.record(
            cycle=portal.cycle,
            department=code,
            sha256=sha,
            suffix=suffix,
            size=len(data),
            filename=shown,
            uploaded_at=uploaded_at,
            status=checked.status,
            findings=checked.findings,
        )

    try:
        await asyncio.to_thread(keep)
    except (OSError, SQLAlchemyError) as exc:  # a full disk, a database gone: said, logged, nothing half-kept
        with contextlib.suppress(OSError, SQLAlchemyError):
            await asyncio.to_thread(portal.store.log, portal.cycle, "server", "store-failed", code, f"{shown}: {exc}")
        raise NotStored(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    return checked, True


def _template_for(portal: Portal, code: str) -> Path:
    """The department's template, generated once into the portal folder (signed with the cycle key)."""
    from cascadebook.template.department import generate

    folder = portal.store.root / "templates" / code
    found = sorted(folder.glob("*.xlsx")) if folder.is_dir() else []
    if found:
        return found[0]
    return generate(portal.strategy, folder, spec=portal.spec, departments=[code], key=portal.key)[0]


def finding_rows(findings: list[dict]) -> list[Finding]:
    """Stored findings (dicts) back as :class:`Finding` for the templates."""
    keep = ("code", "message", "file", "sheet", "cell", "department", "location")
    return [Finding(**{k: f.get(k, "") for k in keep}) for f in findings]
