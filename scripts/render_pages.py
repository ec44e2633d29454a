"""Render workbooks as they print: PDF through headless LibreOffice, then one PNG per page (pdftoppm).

For a reviewer to look at what a department head prints or what finance takes into a meeting, and
for the pictures under docs/:

    python scripts/render_pages.py outbox/FY2027_MKT.xlsx master.xlsx -o pages
    python scripts/render_pages.py master.xlsx -o pages --dpi 110 --pages 1-3

Writes pages/<name>.pdf and pages/<name>-<page>.png, and prints each PDF's page count. Needs
LibreOffice (``soffice``) and poppler-utils (``pdftoppm``, ``pdfinfo``). Formulas are recalculated on
load (a private LibreOffice profile, so it runs beside an open LibreOffice).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def to_pdf(files: list[Path], outdir: Path, timeout: float = 600) -> list[Path]:
    """Convert ``files`` to PDF in ``outdir`` with one soffice call; the PDFs' paths, in order."""
    binary = shutil.which("soffice") or shutil.which("libreoffice")
    if binary is None:
        raise SystemExit("render_pages: LibreOffice (soffice) is not installed")
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="render-pages-") as profile:
        (Path(profile) / "user").mkdir()
        (Path(profile) / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
        command = [
            binary,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            *(str(f.resolve()) for f in files),
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env={**os.environ, "HOME": profile}, check=False
        )
    pdfs = [outdir / f"{f.stem}.pdf" for f in files]
    missing = [p.name for p in pdfs if not p.exists()]
    if done.returncode != 0 or missing:
        raise SystemExit(f"render_pages: soffice failed for {missing or 'all'}: {(done.stderr or done.stdout)[:500]}")
    return pdfs


def page_count(pdf: Path) -> int:
    """The PDF's number of pages (pdfinfo)."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    match = re.search(r"^Pages:\s+(\d+)", info, re.M)
    return int(match.group(1)) if match else 0


def to_png(pdf: Path, outdir: Path, dpi: int = 100, first: int | None = None, last: int | None = None) -> list[Path]:
    """One PNG per page of ``pdf`` (or of pages ``first``..``last``): ``<stem>-<page>.png``."""
    if shutil.which("pdftoppm") is None:
        raise SystemExit("render_pages: pdftoppm (poppler-utils) is not installed")
    for old in outdir.glob(f"{pdf.stem}-*.png"):
        old.unlink()
    command = ["pdftoppm", "-png", "-r", str(dpi)]
    if first:
        command += ["-f", str(first)]
    if last:
        command += ["-l", str(last)]
    subprocess.run([*command, str(pdf), str(outdir / pdf.stem)], check=True)
    return sorted(outdir.glob(f"{pdf.stem}-*.png"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workbooks", nargs="+", type=Path, help=".xlsx files to render")
    parser.add_argument("-o", "--outdir", type=Path, default=Path("pages"), help="where the PDFs and PNGs go")
    parser.add_argument("--dpi", type=int, default=100, help="PNG resolution (default 100)")
    parser.add_argument("--pages", default="", help="only these pages as PNG, e.g. 1-3 or 2")
    parser.add_argument("--pdf-only", action="store_true", help="no PNGs")
    args = parser.parse_args(argv)
    first = last = None
    if args.pages:
        a, _, b = args.pages.partition("-")
        first, last = int(a), int(b or a)
    for pdf in to_pdf(args.workbooks, args.outdir):
        pngs = [] if args.pdf_only else to_png(pdf, args.outdir, args.dpi, first, last)
        print(f"{pdf}: {page_count(pdf)} page(s)" + (f", {len(pngs)} PNG(s)" if pngs else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
