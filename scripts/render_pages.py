"""Render workbooks as they print: PDF through headless LibreOffice, then one PNG per page (pdftoppm).

For a reviewer to look at what a department head prints or what finance takes into a meeting, and
for the pictures under docs/:

    python scripts/render_pages.py outbox/FY2027_MKT.xlsx master.xlsx -o pages
    python scripts/render_pages.py master.xlsx -o pages --dpi 110 --pages 1-3
    python scripts/render_pages.py master.xlsx -o docs --dpi 110 --sheets Dashboard   # docs/master-1.png

``--sheets`` renders only the named sheets: the others are hidden in a temporary copy (hidden sheets do
not print), so the page numbers start at the first named sheet.

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
import zipfile
from html import unescape
from pathlib import Path

RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def only_sheets(source: Path, names: list[str], target: Path) -> Path:
    """Copy ``source`` to ``target`` with every sheet but ``names`` hidden and the first of them active.

    Only xl/workbook.xml changes (a sheet's ``state``), so charts and everything else stay as written."""
    wanted = {n.casefold() for n in names}
    with zipfile.ZipFile(source) as zin:
        xml = zin.read("xl/workbook.xml").decode("utf-8")
        found = [unescape(m.group(1)) for m in re.finditer(r'<sheet [^>]*?name="([^"]*)"', xml)]
        missing = [n for n in names if n.casefold() not in {f.casefold() for f in found}]
        if missing:
            raise SystemExit(f"render_pages: {source.name} has no sheet {', '.join(missing)} (it has {found})")

        def state(match: re.Match) -> str:
            tag = re.sub(r'\s+state="[^"]*"', "", match.group(0))
            name = unescape(re.search(r'name="([^"]*)"', tag).group(1))
            return tag if name.casefold() in wanted else tag.replace("<sheet ", '<sheet state="hidden" ', 1)

        xml = re.sub(r"<sheet [^>]*?/>", state, xml)
        first = next(i for i, f in enumerate(found) if f.casefold() in wanted)
        xml = re.sub(r'activeTab="\d+"', f'activeTab="{first}"', xml)
        if "activeTab=" not in xml:
            xml = xml.replace("<workbookView ", f'<workbookView activeTab="{first}" ', 1)
        xml = re.sub(r'firstSheet="\d+"', f'firstSheet="{first}"', xml)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
            for item in zin.infolist():
                data = xml.encode("utf-8") if item.filename == "xl/workbook.xml" else zin.read(item.filename)
                zout.writestr(item, data)
    return target


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
    parser.add_argument("--sheets", default="", help="only these sheets, e.g. Dashboard or 'Summary,Goal Hierarchy'")
    args = parser.parse_args(argv)
    first = last = None
    if args.pages:
        a, _, b = args.pages.partition("-")
        first, last = int(a), int(b or a)
    names = [n.strip() for n in args.sheets.split(",") if n.strip()]
    with tempfile.TemporaryDirectory(prefix="render-sheets-") as tmp:
        books = [only_sheets(b, names, Path(tmp) / b.name) for b in args.workbooks] if names else args.workbooks
        for pdf in to_pdf(books, args.outdir):
            pngs = [] if args.pdf_only else to_png(pdf, args.outdir, args.dpi, first, last)
            print(f"{pdf}: {page_count(pdf)} page(s)" + (f", {len(pngs)} PNG(s)" if pngs else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
