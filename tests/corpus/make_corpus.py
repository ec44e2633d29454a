"""The test corpus of real-world and hostile returns, generated at test time (no committed binaries).

Every builder writes one file and returns its path; tests call them into tmp folders. Run it by
hand to look at the files::

    python tests/corpus/make_corpus.py OUT_DIR      # needs a generated template: see main()

Hostile packages are built byte by byte with :func:`raw_zip`, so a part can declare any size and
hold any deflate stream (a zip bomb whose header lies, for one).
"""

from __future__ import annotations

import os
import random
import shutil
import struct
import sys
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

TEMPLATE_SHEET_PARTS = {
    "Instructions": "xl/worksheets/sheet1.xml",
    "Objectives": "xl/worksheets/sheet2.xml",
    "Initiatives": "xl/worksheets/sheet3.xml",
    "KPIs": "xl/worksheets/sheet4.xml",
}


# ---- zip packages byte by byte -------------------------------------------------------------------


def deflate_stream(chunks: Iterable[bytes]) -> tuple[bytes, int, int]:
    """Raw-deflate ``chunks`` -> (compressed bytes, crc32, uncompressed size), streaming."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    out, crc, size = [], 0, 0
    for chunk in chunks:
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
        out.append(comp.compress(chunk))
    out.append(comp.flush())
    return b"".join(out), crc, size


def raw_zip(path: Path, entries: list[tuple[str, bytes, int, int, int]]) -> Path:
    """Write a zip from (name, deflated data, crc, declared uncompressed size, method=8) entries."""
    local, central, offset = [], [], 0
    for name, data, crc, declared, method in entries:
        encoded = name.encode()
        header = (
            struct.pack(
                "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(data), declared, len(encoded), 0
            )
            + encoded
        )
        central.append(
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02",
                20,
                20,
                0,
                method,
                0,
                0x21,
                crc,
                len(data),
                declared,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
        local.append(header + data)
        offset += len(header) + len(data)
    directory = b"".join(central)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), offset, 0)
    path.write_bytes(b"".join(local) + directory + end)
    return path


def package_parts(source: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(source) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def rezip(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def _entries(parts: dict[str, bytes]) -> list[tuple[str, bytes, int, int, int]]:
    out = []
    for name, data in parts.items():
        packed, crc, size = deflate_stream([data])
        out.append((name, packed, crc, size, 8))
    return out


def _zeros(megabytes: int) -> Iterable[bytes]:
    block = b"0" * (1024 * 1024)
    for _ in range(megabytes):
        yield block


# ---- broken and hostile files ---------------------------------------------------------------------


def zero_bytes(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def random_bytes(path: Path, size: int = 20_000, seed: int = 7) -> Path:
    path.write_bytes(random.Random(seed).randbytes(size))
    return path


def truncated(path: Path, source: Path) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def zip_bomb_declared(path: Path, source: Path, megabytes: int = 300) -> Path:
    """An honest header: the sheet part says it inflates to ``megabytes`` MB (refused before inflating)."""
    parts = package_parts(source)
    entries = _entries({k: v for k, v in parts.items() if k != TEMPLATE_SHEET_PARTS["KPIs"]})
    packed, crc, size = deflate_stream(_zeros(megabytes))
    entries.append((TEMPLATE_SHEET_PARTS["KPIs"], packed, crc, size, 8))
    return raw_zip(path, entries)


def zip_bomb_lying(path: Path, source: Path, megabytes: int = 150) -> Path:
    """A lying header: the sheet part declares 4 KB but its deflate stream inflates to ``megabytes`` MB."""
    parts = package_parts(source)
    entries = _entries({k: v for k, v in parts.items() if k != TEMPLATE_SHEET_PARTS["KPIs"]})
    packed, crc, _ = deflate_stream(_zeros(megabytes))
    entries.append((TEMPLATE_SHEET_PARTS["KPIs"], packed, crc, 4096, 8))
    return raw_zip(path, entries)


def billion_laughs(path: Path, source: Path, part: str = "xl/sharedStrings.xml") -> Path:
    """The classic entity expansion, in a part calamine reads on open."""
    lol = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol%s;" % ("" if i == 1 else i - 1)) * 10}">' for i in range(1, 10)
    ]
    data = (
        '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE sst [' + "".join(lol) + ']>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        '<si><t>&lol9;</t></si></sst>'
    ).encode()
    parts = package_parts(source)
    parts[part] = data
    return rezip(path, parts)


def far_cell(path: Path, source: Path, ref: str = "XFD1048576", sheet: str = "Initiatives") -> Path:
    """One value in the last cell of the sheet: a 1 KB change that asks calamine for 512 GB."""
    parts = package_parts(source)
    name = TEMPLATE_SHEET_PARTS[sheet]
    row = "".join(ch for ch in ref if ch.isdigit())
    cell = f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>far away</t></is></c></row>'.encode()
    parts[name] = parts[name].replace(b"</sheetData>", cell + b"</sheetData>")
    return rezip(path, parts)


def many_rows(path: Path, source: Path, rows: int = 1_000_000, sheet: str = "KPIs", column: str = "F") -> Path:
    """``rows`` rows with a value in one column, appended below the template's rows."""
    parts = package_parts(source)
    name = TEMPLATE_SHEET_PARTS[sheet]
    first = 1000
    body = b"".join(
        b'<row r="%d"><c r="%s%d"><v>%d</v></c></row>' % (r, column.encode(), r, r) for r in range(first, first + rows)
    )
    parts[name] = parts[name].replace(b"</sheetData>", body + b"</sheetData>")
    return rezip(path, parts)


def ods_package(path: Path, tables: str) -> Path:
    """An OpenDocument spreadsheet holding ``tables`` (``<table:table>`` elements) and nothing else."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3"><office:body>'
        f'<office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>'
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        '</manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return path


def ods_repeated(path: Path, rows: int = 9_000, columns: int = 1_000) -> Path:
    """A tiny OpenDocument spreadsheet whose one cell is repeated ``rows`` x ``columns`` times."""
    return ods_package(
        path,
        '<table:table table:name="Initiatives"><table:table-row><table:table-cell '
        'office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>'
        f'<table:table-row table:number-rows-repeated="{rows}"><table:table-cell '
        f'office:value-type="float" office:value="1" table:number-columns-repeated="{columns}"/>'
        '</table:table-row></table:table>',
    )


def macro_enabled(path: Path, source: Path) -> Path:
    """The same workbook saved as .xlsm: a VBA project part and the macro-enabled content type."""
    parts = package_parts(source)
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2048)
    return rezip(path, parts)


def duplicate_part(path: Path, source: Path) -> Path:
    """Two parts with the same name: a reader could scan one and parse the other."""
    parts = package_parts(source)
    entries = _entries(parts)
    name = TEMPLATE_SHEET_PARTS["Initiatives"]
    packed, crc, size = deflate_stream(
        [b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>']
    )
    entries.append((name, packed, crc, size, 8))
    return raw_zip(path, entries)


def encrypted(path: Path, source: Path, password: str = "secret") -> Path:
    """A password-protected workbook: Office's ECMA-376 agile encryption in an OLE compound file,
    made by msoffcrypto-tool (a declared test dependency: never replaced by a look-alike)."""
    try:
        from msoffcrypto.format.ooxml import OOXMLFile
    except ImportError as exc:
        raise RuntimeError(
            "msoffcrypto-tool is missing: it is in the test extra (pip install -e '.[test]'); "
            "the encrypted workbook is made by it, never faked"
        ) from exc
    with source.open("rb") as handle, path.open("wb") as out:
        OOXMLFile(handle).encrypt(password, out)
    return path


def _ole_file(path: Path, streams: dict[str, bytes]) -> Path:
    """A minimal compound file (version 3, 512-byte sectors) with big streams only (>= 4096 bytes)."""
    sector = 512
    end, free, fat_mark = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    data_sectors, chains, next_sector = [], [], 2  # sector 0: FAT, sector 1: directory
    for name, blob in streams.items():
        blob = blob + bytes(-len(blob) % sector)
        count = len(blob) // sector
        chains.append((name, next_sector, len(blob)))
        data_sectors.append(blob)
        next_sector += count
    fat = [fat_mark, end]
    for _, start, size in chains:
        count = size // sector
        fat += [start + i + 1 for i in range(count - 1)] + [end]
    assert len(fat) <= sector // 4, "stream too big for this tiny writer"
    fat += [free] * (sector // 4 - len(fat))

    def entry(name: str, kind: int, start: int, size: int, left=free, right=free, child=free) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (
            encoded.ljust(64, b"\0")
            + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", left, right, child)
            + bytes(16)
            + bytes(4)
            + bytes(16)
            + struct.pack("<IQ", start, size)
        )

    names = list(streams)
    directory = entry("Root Entry", 5, end, 0, child=1)
    for i, (name, start, _size) in enumerate(chains, 1):
        directory += entry(name, 2, start, len(streams[name]), right=i + 1 if i < len(chains) else free)
    directory = directory.ljust(sector, b"\0")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(16)
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
        + struct.pack("<I", 0)
        + struct.pack("<108I", *([free] * 108))
    )
    assert len(header) == 512 and len(names) == len(chains)
    path.write_bytes(header + struct.pack(f"<{sector // 4}I", *fat) + directory + b"".join(data_sectors))
    return path


def raw_cells(path: Path, source: Path, sheet: str, cells: dict[str, str]) -> Path:
    """Replace cells of a template's sheet part with raw XML bodies, e.g. ``{"H5": "<f>1+1</f><v>2</v>"}``.

    openpyxl cannot write a formula's cached value; Excel and LibreOffice always do, scripts often do not.
    """
    import re

    parts = package_parts(source)
    name = TEMPLATE_SHEET_PARTS[sheet]
    data = parts[name].decode()
    for ref, body in cells.items():
        pattern = re.compile(rf'<c r="{ref}"([^>]*?)(?:/>|>.*?</c>)', re.S)
        attrs = ""
        match = pattern.search(data)
        if match:
            attrs = re.sub(r'\s*t="[^"]*"', "", match.group(1))
        kind = ' t="str"' if "<v>" in body and not re.search(r"<v>-?[0-9.]+</v>", body) else ""
        cell = f'<c r="{ref}"{attrs}{kind}>{body}</c>'
        assert match, f"{ref} is not a cell of the template's {sheet} sheet"
        data = data[: match.start()] + cell + data[match.end() :]
    parts[name] = data.encode()
    return rezip(path, parts)


def foreign_workbook(path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    book.active["A1"] = "Budget 2027"
    book.active["B2"] = 1200
    book.save(path)
    return path


# ---- what people do to a template (openpyxl, as a person's spreadsheet program would) ------------


def edit(source: Path, target: Path, change) -> Path:
    """Open ``source`` with openpyxl, let ``change(book)`` edit it, save as ``target``."""
    import openpyxl

    book = openpyxl.load_workbook(source)
    change(book)
    book.save(target)
    return target


def strip_metadata(book) -> None:
    """What a copy into a fresh workbook does: no hidden sheet, no custom document properties."""
    from openpyxl.packaging.custom import CustomPropertyList

    if "_cascadebook" in book.sheetnames:
        del book["_cascadebook"]
    book.custom_doc_props = CustomPropertyList()


def main(argv: list[str]) -> None:  # pragma: no cover - a convenience for looking at the files
    out = Path(argv[1] if len(argv) > 1 else "corpus-out")
    out.mkdir(parents=True, exist_ok=True)
    from cascadebook import generate, load_strategy

    strategy = load_strategy(Path(__file__).resolve().parents[2] / "samples" / "strategy.yaml")
    template = generate(strategy, out / "templates", departments=["MKT"])[0]
    for builder in (
        zip_bomb_declared,
        zip_bomb_lying,
        billion_laughs,
        far_cell,
        macro_enabled,
        duplicate_part,
        encrypted,
        truncated,
    ):
        builder(out / f"{builder.__name__}.xlsx", template)
    zero_bytes(out / "zero_bytes.xlsx")
    random_bytes(out / "random_bytes.xlsx")
    foreign_workbook(out / "foreign.xlsx")
    many_rows(out / "many_rows.xlsx", template)
    shutil.rmtree(out / "templates", ignore_errors=True) if os.environ.get("CLEAN") else None
    print(f"wrote {out}")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv)
