"""Headless LibreOffice: re-save or recalculate workbooks, as a department head's LibreOffice would.

Used by the tests (round trips, formula recalculation, PDF rendering) and available to users who
want to check a master renders. One soffice call converts many files; each call gets a private
profile so parallel runs do not fight over a lock, and that profile tells Calc to recalculate every
formula on load (by default it trusts the cached values of .xlsx files).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

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
