"""Type into a workbook through LibreOffice Calc, as a person would, and save it as .xlsx.

Run with the SYSTEM interpreter (Debian's python3-uno is importable there, not in a venv)::

    /usr/bin/python3 tests/uno_type.py IN.xlsx OUT.xlsx edits.json [--timeout 120]

``edits.json`` is a list of ``{"sheet": "Initiatives", "cell": "R5", "value": "Approved"}``; a number
is set as a number, text as text, and a value starting with ``=`` is a formula only with
``"formula": true`` (otherwise it is the literal text, as Calc keeps a quoted entry). A locked cell
of a protected sheet is refused, as Calc refuses a person typing there (the API alone would not).

Each call starts its own headless soffice with a private profile and a pipe name of its own, so
parallel test workers never share an office or a profile lock. That soffice runs in a process group
of its own, which is killed on any error or when ``--timeout`` passes (a watchdog thread, because a
UNO call blocked on a hung office never returns to Python by itself); nothing is left running.
Exit 0, or 1 with one line on stderr. Only the standard library and uno: tests/libreoffice.py runs
this script, the venv never imports it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

FILTER = "Calc MS Excel 2007 XML"
CONNECT_WITHIN = 60.0  # seconds soffice gets to accept the pipe connection (first start builds a profile)


class Refused(Exception):
    """A failure to report as the script's one stderr line."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("target")
    parser.add_argument("edits")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for the whole call")
    parser.add_argument("--soffice", default=shutil.which("soffice") or shutil.which("libreoffice"))
    args = parser.parse_args(argv)
    try:
        edits = _read_edits(Path(args.edits))
        source, target = Path(args.source).resolve(), Path(args.target).resolve()
        if not source.is_file():
            raise Refused(f"no such workbook: {source}")
        if not target.parent.is_dir():
            raise Refused(f"no such folder for the output: {target.parent}")
        if not args.soffice:
            raise Refused("LibreOffice (soffice) is not installed")
        _type(source, target, edits, args.soffice, args.timeout)
    except Refused as exc:
        print(f"uno_type: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - a UNO exception or any other: still one line, never a traceback
        print(f"uno_type: {type(exc).__name__}: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    return 0


def _one_line(text: str) -> str:
    return " ".join(text.split())[:1000] or "(no message)"


def _read_edits(path: Path) -> list[dict]:
    try:
        edits = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Refused(f"cannot read the edits {path}: {exc}") from None
    if not isinstance(edits, list):
        raise Refused(f"{path}: the edits must be a JSON list")
    for n, edit in enumerate(edits, 1):
        if not (isinstance(edit, dict) and isinstance(edit.get("sheet"), str) and isinstance(edit.get("cell"), str)):
            raise Refused(f"edit {n}: needs a 'sheet' and a 'cell' (strings): {edit!r}")
        value = edit.get("value")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise Refused(f"edit {n}: the value must be a string or a number, found {value!r}")
    return edits


def _type(source: Path, target: Path, edits: list[dict], binary: str, timeout: float) -> None:
    pipe = f"cascadebook-uno-{os.getpid()}-{uuid.uuid4().hex}"
    with tempfile.TemporaryDirectory(prefix="cascadebook-uno-", ignore_cleanup_errors=True) as work:
        profile = Path(work) / "profile"
        # Calc opens a copy: its lock file (.~lock.NAME#) never lands beside the source, so two calls on
        # one workbook do not refuse each other, and the source is never touched.
        copy = Path(work) / "in" / source.name
        copy.parent.mkdir()
        shutil.copyfile(source, copy)
        command = [
            binary,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            f"--accept=pipe,name={pipe};urp;",
        ]
        office = subprocess.Popen(
            command,
            env={**os.environ, "HOME": str(profile)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: oosplash and soffice.bin die together
        )
        timed_out = threading.Event()

        def expire() -> None:
            timed_out.set()
            _kill(office)

        watchdog = threading.Timer(timeout, expire)
        watchdog.daemon = True
        watchdog.start()
        previous = signal.signal(signal.SIGTERM, _terminated)
        quitting = threading.Event()  # set once the office was asked to quit (desktop.terminate)
        try:
            connect_by = time.monotonic() + min(CONNECT_WITHIN, timeout)
            _edit_in_office(office, pipe, copy, target, edits, connect_by, quitting)
        except Exception:
            if timed_out.is_set():
                raise Refused(f"LibreOffice did not finish within {timeout:g} s") from None
            raise
        finally:
            watchdog.cancel()
            signal.signal(signal.SIGTERM, previous)
            if quitting.is_set() and not timed_out.is_set():  # it exits by itself, its children reaped
                try:
                    office.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    pass
            _kill(office)
            _remove_pipes(pipe, profile.as_uri())


def _remove_pipes(pipe: str, profile_url: str) -> None:
    """The socket files a killed soffice leaves behind (one that quits removes them): the --accept pipe
    and the profile's single-instance pipe, named as LibreOffice does (desktop/source/app/
    officeipcthread.cxx: MD5 of the profile URL's UTF-16, each byte in hex without a leading zero).
    osl puts them in /tmp, else /var/tmp."""
    digest = hashlib.md5(profile_url.encode("utf-16-le"), usedforsecurity=False).digest()
    names = (pipe, "SingleOfficeIPC_" + "".join(format(byte, "x") for byte in digest))
    for folder in ("/tmp", "/var/tmp"):
        for name in names:
            Path(folder, f"OSL_PIPE_{os.getuid()}_{name}").unlink(missing_ok=True)


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(f"uno_type: stopped by signal {signum}")


def _kill(office: subprocess.Popen) -> None:
    """Kill soffice's process group (oosplash and soffice.bin), ours by its id; gone already is fine."""
    try:
        os.killpg(office.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        office.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _edit_in_office(
    office: subprocess.Popen,
    pipe: str,
    source: Path,
    target: Path,
    edits: list[dict],
    connect_by: float,
    quitting: threading.Event,
) -> None:
    import uno
    from com.sun.star.beans import PropertyValue
    from com.sun.star.connection import NoConnectException
    from com.sun.star.uno import Exception as UnoException

    def props(**values: object) -> tuple:
        out = []
        for name, value in values.items():
            prop = PropertyValue()
            prop.Name, prop.Value = name, value
            out.append(prop)
        return tuple(out)

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    while True:
        try:
            context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except NoConnectException:
            if office.poll() is not None:
                raise Refused(f"soffice exited ({office.returncode}) before accepting a connection") from None
            if time.monotonic() > connect_by:
                raise Refused(f"soffice did not accept a connection within {CONNECT_WITHIN:g} s") from None
            time.sleep(0.25)
    desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
    try:
        document = desktop.loadComponentFromURL(source.as_uri(), "_blank", 0, props(Hidden=True))
        if document is None:
            raise Refused(f"LibreOffice cannot open {source.name}")
        try:
            if not document.supportsService("com.sun.star.sheet.SpreadsheetDocument"):
                raise Refused(f"LibreOffice does not open {source.name} as a spreadsheet")
            for n, edit in enumerate(edits, 1):
                _set(document, n, edit)
            # Stored in the work folder (an office killed mid-store leaves its lock and temporary files
            # there), copied beside the target and moved over it: a reader never sees half a workbook.
            stored = source.parent / f"stored-{uuid.uuid4().hex}.xlsx"
            document.storeToURL(stored.as_uri(), props(FilterName=FILTER, Overwrite=True))
            partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.xlsx")
            try:
                shutil.copyfile(stored, partial)
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
        finally:
            try:
                document.close(True)
            except UnoException:  # a close veto: the office quits below anyway
                document.dispose()
    finally:
        quitting.set()
        try:
            desktop.terminate()
        except UnoException:  # the bridge goes down as the office quits: expected
            pass


def _set(document: object, n: int, edit: dict) -> None:
    from com.sun.star.uno import Exception as UnoException

    sheets = document.Sheets
    name, ref, value = edit["sheet"], edit["cell"], edit["value"]
    if not sheets.hasByName(name):
        raise Refused(f"edit {n}: no sheet {name!r} (sheets: {', '.join(sheets.ElementNames)})")
    sheet = sheets.getByName(name)
    try:
        cell = sheet.getCellRangeByName(ref)
    except UnoException:
        raise Refused(f"edit {n}: {ref!r} is not a cell of {name!r}") from None
    if not cell.supportsService("com.sun.star.table.Cell"):
        raise Refused(f"edit {n}: {ref!r} is not a single cell")
    if sheet.isProtected() and cell.CellProtection.IsLocked:
        raise Refused(f"edit {n}: {name}!{ref} is a locked cell of a protected sheet")
    if isinstance(value, (int, float)):
        cell.setValue(value)
    elif value.startswith("=") and edit.get("formula") is True:
        cell.setFormula(value)
    else:
        cell.setString(value)


if __name__ == "__main__":
    sys.exit(main())
