"""Crafted packages for sniff's branches no test reached (issue 17): a binary .xlsb, a zip part with
the encryption flag, a part inflating past the 100 MB cap while declaring less than the zip limits
let through, and a DTD hidden in UTF-16 XML. Each is a file-level finding saying why, the file is
left as it was, and the good return beside it is reconciled."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest

from cascadebook import reconcile
from cascadebook.intake.gate import MAX_PART, MAX_RATIO, MAX_UNCOMPRESSED
from conftest import clean_initiative, clean_kpi
from corpus import make_corpus as corpus

SHARED_STRINGS = "xl/sharedStrings.xml"


@pytest.fixture
def good(fill) -> Path:
    return fill(
        "MKT",
        "MKT.xlsx",
        rows={"initiatives": [clean_initiative("CO1", "Campaign", 60, 66)], "kpis": [clean_kpi("MKT-I01", "Leads")]},
    )


def _zip(path: Path, entries: list[tuple[str, bytes, int, int, int]]) -> Path:
    """A zip from (name, stored bytes, crc, declared size, general-purpose flags), deflated entries."""
    local, central, offset = [], [], 0
    for name, data, crc, declared, flags in entries:
        encoded = name.encode()
        local.append(
            struct.pack(
                "<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, 8, 0, 0x21, crc, len(data), declared, len(encoded), 0
            )
            + encoded
            + data
        )
        central.append(
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02",
                20,
                20,
                flags,
                8,
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
        offset += len(local[-1])
    directory = b"".join(central)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), offset, 0)
    path.write_bytes(b"".join(local) + directory + end)
    return path


def _entries(parts: dict[str, bytes], flags: dict[str, int] | None = None) -> list:
    out = []
    for name, data in parts.items():
        packed, crc, size = corpus.deflate_stream([data])
        out.append((name, packed, crc, size, (flags or {}).get(name, 0)))
    return out


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _laughs(encoding: str, declared: str) -> bytes:
    lol = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol%s;" % ("" if i == 1 else i - 1)) * 10}">' for i in range(1, 10)
    ]
    return (
        f'<?xml version="1.0" encoding="{declared}"?><!DOCTYPE sst [' + "".join(lol) + ']>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        '<si><t>&lol9;</t></si></sst>'
    ).encode(encoding)


def _reconcile_beside_good(strategy, key, returned, workdir, crafted: dict[str, Path]):
    before = _digest(returned) | _digest(workdir / "crafted")
    result = reconcile(strategy, [returned, workdir / "crafted"], key=key, jobs=1)
    assert _digest(returned) | _digest(workdir / "crafted") == before  # nothing is modified
    assert [r.id for r in result.initiatives] == ["MKT-I01"] and result.accepted()["MKT"].file == "returned/MKT.xlsx"
    found = {}
    for f in result.findings:
        if f.file.startswith("crafted/"):
            found.setdefault(f.file, []).append((f.code, f.message))
    return result, found


@pytest.fixture
def crafted(workdir) -> Path:
    folder = workdir / "crafted"
    folder.mkdir()
    return folder


def test_a_binary_xlsb_workbook_is_a_legacy_format(strategy, key, returned, good, workdir, crafted):
    """A .xlsb (the workbook part is xl/workbook.bin): legacy-format, asking for an .xlsx."""
    parts = corpus.package_parts(good)
    parts["xl/workbook.bin"] = b"\x83\x01\x00" * 50
    del parts["xl/workbook.xml"]
    corpus.rezip(crafted / "MKT.xlsb", parts)
    _, found = _reconcile_beside_good(strategy, key, returned, workdir, crafted)
    assert found == {"crafted/MKT.xlsb": [("legacy-format", "the workbook is in the binary .xlsb format")]}


def test_a_zip_part_flagged_as_encrypted_is_file_encrypted(strategy, key, returned, good, workdir, crafted):
    """A package one of whose parts carries the zip encryption flag: file-encrypted, no part inflated."""
    parts = corpus.package_parts(good)
    _zip(crafted / "zip-password.xlsx", _entries(parts, flags={"xl/workbook.xml": 0x1}))
    _, found = _reconcile_beside_good(strategy, key, returned, workdir, crafted)
    assert found == {"crafted/zip-password.xlsx": [("file-encrypted", "the part 'xl/workbook.xml' is encrypted")]}


def test_a_part_inflating_past_the_per_part_cap_is_refused(strategy, key, returned, good, workdir, crafted):
    """A sheet part declaring 150 MB (under the 200 MB package limit) with a compressed size that keeps its
    ratio under 200: only inflating it shows it passes 100 MB, and it is refused there as a zip bomb."""
    declared = 150 * 1024 * 1024
    assert MAX_PART < declared < MAX_UNCOMPRESSED
    parts = corpus.package_parts(good)
    sheet = corpus.TEMPLATE_SHEET_PARTS["KPIs"]
    entries = _entries({k: v for k, v in parts.items() if k != sheet})
    packed, _, _ = corpus.deflate_stream(b"<" * (1024 * 1024) for _ in range(MAX_PART // (1024 * 1024) + 2))
    padding = declared // MAX_RATIO + 1 - len(packed)  # bytes after the stream's end make the ratio pass
    entries.append((sheet, packed + b"\x00" * max(0, padding), 0, declared, 0))
    _zip(crafted / "bomb-cap.xlsx", entries)
    _, found = _reconcile_beside_good(strategy, key, returned, workdir, crafted)
    assert found == {
        "crafted/bomb-cap.xlsx": [
            ("file-refused", f"the part {sheet!r} inflates to more than 100 MB; refused as a zip bomb")
        ]
    }


@pytest.mark.parametrize(
    "encoding,mark", [("utf-16", b""), ("utf-16-be", b"\xfe\xff"), ("utf-16-le", b""), ("utf-16-be", b"")]
)
def test_a_dtd_in_utf16_xml_is_refused(strategy, key, returned, good, workdir, crafted, encoding, mark):
    """Entity declarations in a part written in UTF-16 (with a byte-order mark either way, or without one,
    little- or big-endian) are found as in UTF-8: file-refused, entities never expanded."""
    parts = corpus.package_parts(good)
    data = mark + _laughs(encoding, "UTF-16")
    parts[SHARED_STRINGS] = data
    corpus.rezip(crafted / "laughs16.xlsx", parts)
    _, found = _reconcile_beside_good(strategy, key, returned, workdir, crafted)
    assert found == {
        "crafted/laughs16.xlsx": [
            (
                "file-refused",
                f"the part {SHARED_STRINGS!r} declares XML entities (a DTD); refused, entities are never expanded",
            )
        ]
    }
