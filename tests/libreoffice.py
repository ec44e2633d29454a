"""Headless LibreOffice: re-save or recalculate workbooks, as a department head's LibreOffice would.

Used by the tests (round trips, formula recalculation, PDF rendering) and available to users who
want to check a master renders. One soffice call converts many files; each call gets a private
profile so parallel runs do not fight over a lock, and that profile tells Calc to recalculate every
formula on load (by default it trusts the cached values of .xlsx files).

:func:`type_cells` types into a workbook through Calc itself (tests/uno_type.py, over UNO). Debian's
``python3-uno`` is importable only by the system interpreter, not by a venv, so the script runs as a
subprocess of :data:`SYSTEM_PYTHON`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

SYSTEM_PYTHON = "/usr/bin/python3"  # the interpreter python3-uno installs `uno` for
UNO_TYPE = Path(__file__).with_name("uno_type.py")

RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


class LibreOfficeError(RuntimeError):
    pass


def soffice() -> str | None:
    """Path of the soffice binary, or None when LibreOffice is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(
    files: Iterable[str | Path], to: str, outdir: str | Path, *, recalc: bool = True, timeout: float = 300
) -> list[Path]:
    """Convert ``files`` to format ``to`` ("xlsx", "ods", "pdf", "xls" or a full filter spec) in one call.

    Returns the output paths in the order of ``files``. ``recalc`` makes Calc recalculate all
    formulas on load, as Excel does when a workbook asks for it.
    """
    binary = soffice()
    if binary is None:
        raise LibreOfficeError("LibreOffice (soffice) is not installed")
    files = [Path(f).resolve() for f in files]
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cascadebook-lo-") as profile:
        if recalc:
            (Path(profile) / "user").mkdir()
            (Path(profile) / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
        command = [
            binary,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            to,
            "--outdir",
            str(outdir),
            *map(str, files),
        ]
        env = {**os.environ, "HOME": profile}
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    extension = to.split(":", 1)[0]
    outputs = [outdir / f"{f.stem}.{extension}" for f in files]
    missing = [p.name for p in outputs if not p.exists()]
    if done.returncode != 0 or missing:
        raise LibreOfficeError(
            f"soffice failed ({done.returncode}) for {missing or 'all'}: {(done.stderr or done.stdout).strip()[:500]}"
        )
    return outputs


def uno_available() -> bool:
    """Whether :func:`type_cells` can run: soffice is installed and the system Python imports ``uno``."""
    if soffice() is None or not os.access(SYSTEM_PYTHON, os.X_OK):
        return False
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, timeout=60, check=False)
    return probe.returncode == 0


def type_cells(src: str | Path, dst: str | Path, edits: Sequence[Mapping[str, Any]], *, timeout: float = 180) -> Path:
    """Open ``src`` in headless Calc, type ``edits`` and save the workbook as .xlsx at ``dst``.

    ``edits`` are ``{"sheet": "Initiatives", "cell": "C5", "value": "Approved"}`` (a number is typed as
    a number; a value starting with "=" is a formula only with ``"formula": True``). A locked cell of a
    protected sheet is refused, as Calc refuses a person. One soffice per call (~3-10 s), with its own
    profile and pipe, killed on any error or after ``timeout`` seconds. Raises :class:`LibreOfficeError`
    with the script's one-line error.
    """
    binary = soffice()
    if binary is None:
        raise LibreOfficeError("LibreOffice (soffice) is not installed")
    try:
        payload = json.dumps(list(edits))
    except (TypeError, ValueError) as exc:
        raise LibreOfficeError(f"the edits are not JSON: {exc}") from None
    with tempfile.TemporaryDirectory(prefix="cascadebook-uno-edits-") as folder:
        edits_file = Path(folder) / "edits.json"
        edits_file.write_text(payload, encoding="utf-8")
        command = [SYSTEM_PYTHON, str(UNO_TYPE), str(src), str(dst), str(edits_file), "--timeout", str(timeout)]
        command += ["--soffice", binary]
        # The script kills its soffice itself at `timeout`; the margin is for a script that hangs anyway.
        # Its own session, so that case is ended by killing its process group, no wider.
        try:
            script = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
            )
        except OSError as exc:
            raise LibreOfficeError(f"cannot run {SYSTEM_PYTHON}: {exc}") from None
        try:
            out, err = script.communicate(timeout=timeout + 30)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(script.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            script.communicate()
            raise LibreOfficeError(f"{UNO_TYPE.name} did not finish within {timeout + 30:g} s") from None
    if script.returncode != 0:
        raise LibreOfficeError(f"{UNO_TYPE.name} failed ({script.returncode}): {(err or out).strip()[:500]}")
    return Path(dst)
