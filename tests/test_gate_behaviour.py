"""The package safety gate, stated as tables of crafted files and what each must give (fast, tiny files).

Every hostile package is built here, byte by byte where a header has to lie: the gate must refuse it
with the right finding code before any parser sees it, and an ordinary package must pass with its
properties, sheets and the stored zip calamine is given.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from cascadebook.intake import gate
from cascadebook.intake.gate import (
    CALAMINE_OPENS,
    ENCRYPTED_MARK,
    MAX_PART,
    MAX_RATIO,
    MAX_UNCOMPRESSED,
    OLE_MAGIC,
    Refused,
    inspect,
    normalise_time,
)
from cascadebook.intake.sheet_scan import PROLOG_BYTES, SMALL_COLS, SMALL_ROWS

MIB = 1024 * 1024
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
WORKSHEET = REL + "/worksheet"


def sheet(cells: str = '<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>') -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>{cells}</sheetData></worksheet>'.encode()


def workbook(*sheets: tuple[str, str]) -> bytes:
    entries = "".join(f'<sheet name="{name}" sheetId="{i}" r:id="{rid}"/>' for i, (name, rid) in enumerate(sheets, 1))
    return f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{entries}</sheets></workbook>'.encode()


def rels(*targets: tuple[str, str]) -> bytes:
    entries = "".join(f'<Relationship Id="{rid}" Type="{WORKSHEET}" Target="{target}"/>' for rid, target in targets)
    return f'<Relationships xmlns="{PKG_REL}">{entries}</Relationships>'.encode()


def core(modified: str) -> bytes:
    return (
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:creator>someone</dc:creator><dcterms:modified>{modified}</dcterms:modified></cp:coreProperties>"
    ).encode()


def custom(**props: str) -> bytes:
    body = "".join(
        f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{i}" name="{name}">'
        f"<vt:lpwstr>{value}</vt:lpwstr></property>"
        for i, (name, value) in enumerate(props.items(), 2)
    )
    return (
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
        f'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">{body}</Properties>'
    ).encode()


def xlsx_parts(sheet_xml: bytes | None = None) -> dict[str, bytes]:
    """A minimal workbook of one sheet "Plan" as a spreadsheet program lays it out."""
    return {
        "[Content_Types].xml": b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        "_rels/.rels": f'<Relationships xmlns="{PKG_REL}"/>'.encode(),
        "xl/workbook.xml": workbook(("Plan", "rId1")),
        "xl/_rels/workbook.xml.rels": rels(("rId1", "worksheets/sheet1.xml")),
        "xl/worksheets/sheet1.xml": sheet() if sheet_xml is None else sheet_xml,
        "xl/styles.xml": f'<styleSheet xmlns="{MAIN}"/>'.encode(),
        "xl/theme/theme1.xml": b"<theme/>",
    }


def zipped(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def raw_zip(path: Path, entries: list[dict]) -> Path:
    """A zip written by hand: each entry ``name``, ``data`` (as stored), and optionally the ``crc``,
    declared ``size``, ``method``, ``flags`` and the local header's ``extra`` field, whatever the data really is."""
    local, central, offset = [], [], 0
    for e in entries:
        name, extra = e["name"].encode(), e.get("extra", b"")
        method, flags, data = e.get("method", 8), e.get("flags", 0), e["data"]
        crc, size, packed = e["crc"], e["size"], e.get("packed", len(data))
        fields = (method, 0, 0x21, crc, packed, size, len(name))
        header = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, *fields, len(extra))
        local.append(header + name + extra + data)
        central.append(
            struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, flags, *fields, 0, 0, 0, 0, 0, offset) + name
        )
        offset += len(local[-1])
    directory = b"".join(central)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), offset, 0)
    path.write_bytes(b"".join(local) + directory + end)
    return path


def honest(name: str, data: bytes, override: dict | None = None) -> dict:
    return {"name": name, "data": deflate(data), "crc": zlib.crc32(data), "size": len(data), **(override or {})}


def raw_xlsx(path: Path, **override: dict) -> Path:
    """The minimal workbook written by hand, with some of its entries' headers overridden."""
    entries = [honest(name, data, override.get(name)) for name, data in xlsx_parts().items()]
    return raw_zip(path, entries + override.get("", {}).get("extra", []))


def refused(path: Path) -> tuple[str, str]:
    with pytest.raises(Refused) as caught:
        inspect(path)
    assert str(caught.value) == caught.value.message
    return caught.value.code, caught.value.message


# ---- the front door: what the first bytes say ------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (b"", "file-unreadable", "the file is empty (0 bytes)"),
        (
            OLE_MAGIC + b"\0" * 600 + ENCRYPTED_MARK + b"\0" * 40,
            "file-encrypted",
            "the workbook is protected with a password",
        ),
        (
            OLE_MAGIC + b"\0" * 600,
            "legacy-format",
            "the workbook is in the legacy .xls format (or another old Office file)",
        ),
        (OLE_MAGIC, "legacy-format", "the workbook is in the legacy .xls format (or another old Office file)"),
        (b"Name,Budget\nSales,100\n", "file-unreadable", "the file is not a workbook (not a zip package)"),
        (b"P", "file-unreadable", "the file is not a workbook (not a zip package)"),
        (OLE_MAGIC[:7] + b"\0" + ENCRYPTED_MARK, "file-unreadable", "the file is not a workbook (not a zip package)"),
    ],
)
def test_the_first_bytes_decide_what_the_file_is(tmp_path, content, code, message):
    path = tmp_path / "return.xlsx"
    path.write_bytes(content)
    assert refused(path) == (code, message)


def test_a_zip_that_is_damaged_is_unreadable(tmp_path):
    path = tmp_path / "return.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 60)
    code, message = refused(path)
    assert code == "file-unreadable" and message.startswith("the file is damaged or truncated (")


def test_the_encryption_mark_is_found_across_read_chunks():
    """An encrypted Office file names its EncryptedPackage stream anywhere in the compound file."""
    for at in range(50):  # the mark (32 bytes) at every offset around a 40-byte chunk boundary
        data = b"x" * at + ENCRYPTED_MARK + b"y" * 5
        handle = io.BytesIO(data)
        handle.read()  # wherever the handle is, the whole file is searched
        assert gate._contains(handle, ENCRYPTED_MARK, chunk=40) is True
        assert (
            gate._contains(io.BytesIO(data.replace(ENCRYPTED_MARK, b"z" * len(ENCRYPTED_MARK))), ENCRYPTED_MARK, 40)
            is False
        )
    assert gate._contains(io.BytesIO(b""), ENCRYPTED_MARK) is False


def test_an_encrypted_compound_file_with_the_mark_past_a_megabyte(tmp_path):
    path = tmp_path / "locked.xlsx"
    path.write_bytes(OLE_MAGIC + b"\0" * (MIB - 20) + ENCRYPTED_MARK + b"\0" * 100)  # straddles 1 MB
    assert refused(path)[0] == "file-encrypted"


# ---- the package: names and declared sizes ---------------------------------------------------------


def test_two_parts_named_alike_but_for_case_are_refused_as_crafted(tmp_path):
    parts = xlsx_parts()
    parts["XL/Worksheets/Sheet1.xml"] = sheet()
    code, message = refused(zipped(tmp_path / "dup.xlsx", parts))
    assert (code, message) == (
        "file-refused",
        "the package has two parts named 'xl/worksheets/sheet1.xml'; refused as crafted",
    )


def filler(total: int) -> list[dict]:
    """Parts nobody inflates that declare ``total`` bytes together, 1 MB each at most (no ratio check)."""
    out, n = [], 0
    while total > 0:
        size = min(total, MIB)
        out.append({"name": f"xl/media/image{n}.png", "data": b"\0", "crc": 0, "size": size})
        total, n = total - size, n + 1
    return out


@pytest.mark.parametrize(("extra", "ok"), [(0, True), (1, False), (MIB, False)])
def test_all_parts_together_may_declare_200_mb(tmp_path, extra, ok):
    real = sum(len(data) for data in xlsx_parts().values())
    path = raw_xlsx(tmp_path / "big.xlsx", **{"": {"extra": filler(MAX_UNCOMPRESSED - real + extra)}})
    assert MAX_UNCOMPRESSED == 200 * MIB
    if ok:
        assert inspect(path).kind == "xlsx"
    else:
        declared = (MAX_UNCOMPRESSED + extra) // MIB
        assert refused(path) == (
            "file-refused",
            f"the file declares {declared} MB of content (the limit is 200 MB); refused as a zip bomb",
        )


@pytest.mark.parametrize(
    ("size", "packed", "times"),
    [
        (MIB, 1, None),  # parts up to 1 MB may inflate any number of times
        (MIB + 1, 1, MIB + 1),
        (MAX_RATIO * 10_000, 10_000, None),  # 200 times is the most a bigger part may inflate
        (MAX_RATIO * 10_000 + 1, 10_000, 200),
        (2 * MIB, 0, 2 * MIB),  # nothing stored at all: as if one byte
        (3 * MIB, 3 * MIB // 150, None),
    ],
)
def test_one_part_may_inflate_at_most_200_times_its_stored_size(tmp_path, size, packed, times):
    part = {"name": "xl/media/image1.png", "data": b"\0" * packed, "crc": 0, "size": size}
    path = raw_xlsx(tmp_path / "ratio.xlsx", **{"": {"extra": [part]}})
    if times is None:
        assert inspect(path).kind == "xlsx"
    else:
        assert refused(path) == (
            "file-refused",
            f"the part 'xl/media/image1.png' would inflate {times} times; refused as a zip bomb",
        )


@pytest.mark.parametrize(
    ("names", "result"),
    [
        (("xl/workbook.bin", "xl/workbook.xml"), ("legacy-format", "the workbook is in the binary .xlsb format")),
        (("xl/workbook.bin",), ("legacy-format", "the workbook is in the binary .xlsb format")),
        (("word/document.xml",), ("file-unreadable", "the file is a zip package but not a spreadsheet")),
        (("XL/Workbook.xml",), ("file-unreadable", "the file is a zip package but not a spreadsheet")),
        (("xl/workbook.xml",), "xlsx"),
        (("content.xml",), "ods"),
        (("mimetype",), "ods"),
        (("mimetype", "xl/workbook.xml"), "ods"),
    ],
)
def test_the_parts_present_decide_the_format(tmp_path, names, result):
    parts = {
        name: workbook() if name.endswith(".xml") else b"application/vnd.oasis.opendocument.spreadsheet"
        for name in names
    }
    path = zipped(tmp_path / "f.xlsx", parts)
    if isinstance(result, str):
        assert inspect(path).kind == result
    else:
        assert refused(path) == result


# ---- inflating: every part someone reads, with a bounded stream ------------------------------------


def test_an_ordinary_package_passes_with_what_calamine_reads(tmp_path):
    parts = xlsx_parts(
        sheet(
            '<row r="1"><c r="A1"><f>1+1</f><v>2</v></c><c r="B1"><f>2+2</f></c></row>'
            '<row r="3"><c r="C3" t="inlineStr"><is><t>x</t></is></c></row>'
        )
    )
    parts["docProps/core.xml"] = core("2026-02-03T04:05:06Z")
    parts["docProps/custom.xml"] = custom(
        **{"cascadebook.department": " SALES ", "cascadebook.cycle": "FY2026", "other": "x"}
    )
    package = inspect(zipped(tmp_path / "ok.xlsx", parts))
    assert package.kind == "xlsx" and package.macros is False
    assert package.props == {
        "modified": "2026-02-03T04:05:06+00:00",
        "meta:department": "SALES",
        "meta:cycle": "FY2026",
    }
    assert sorted(package.calamine_parts) == sorted(CALAMINE_OPENS & set(parts) | {"xl/worksheets/sheet1.xml"})
    assert package.calamine_parts["xl/styles.xml"] == parts["xl/styles.xml"]
    lean = package.calamine_parts["xl/worksheets/sheet1.xml"]
    assert b"<f>1+1</f>" not in lean and b"<f>2+2</f>" in lean  # a formula with a cached value: its text left out
    scan = package.scan("Plan")
    assert (scan.rows, scan.cols, scan.uncached) == (SMALL_ROWS, SMALL_COLS, {(1, 2)})  # within A1:AZ9999
    assert package.cells("Plan") == SMALL_ROWS * SMALL_COLS and package.scan("Other") is None
    with zipfile.ZipFile(io.BytesIO(package.for_calamine())) as given:
        infos = given.infolist()
        assert {i.filename: given.read(i) for i in infos} == package.calamine_parts
        assert {(i.compress_type, i.date_time) for i in infos} == {(zipfile.ZIP_STORED, (1980, 1, 1, 0, 0, 0))}


@pytest.mark.parametrize(
    ("suffix", "vba", "macros"),
    [
        (".xlsx", False, False),
        (".xlsm", False, True),
        (".XLTM", False, True),
        (".xltx", False, False),
        (".xlsx", True, True),
    ],
)
def test_macros_are_a_vba_project_or_a_macro_enabled_name(tmp_path, suffix, vba, macros):
    parts = xlsx_parts()
    if vba:
        parts["xl/vbaProject.bin"] = b"\0" * 10
    assert inspect(zipped(tmp_path / f"m{suffix}", parts)).macros is macros


LIE = b"<x>" + b"0" * 50_000 + b"</x>"


@pytest.mark.parametrize(
    ("part", "override", "result"),
    [
        # a lying header on a part someone reads: refused as a bomb, not taken for a damaged file
        (
            "xl/worksheets/sheet1.xml",
            {"data": deflate(LIE), "size": 4096},
            ("file-refused", "declares 4096 bytes but inflates to more"),
        ),
        (
            "xl/styles.xml",
            {"data": deflate(LIE), "size": 100},
            ("file-refused", "declares 100 bytes but inflates to more"),
        ),
        ("_rels/.rels", {"data": deflate(LIE), "size": 100}, ("file-refused", "declares 100 bytes")),
        ("xl/workbook.xml", {"data": deflate(LIE), "size": 100}, ("file-refused", "declares 100 bytes")),
        # ... and on a part nobody reads: nothing to protect, the package passes
        ("xl/theme/theme1.xml", {"data": deflate(LIE), "size": 8}, None),
        # a stored part longer than it declares
        ("xl/styles.xml", {"data": LIE, "method": 0, "size": 10}, ("file-refused", "declares 10 bytes but inflates")),
        # encrypted parts, damaged streams, unknown methods, wrong checksums
        ("xl/styles.xml", {"flags": 1}, ("file-encrypted", "the part 'xl/styles.xml' is encrypted")),
        ("xl/theme/theme1.xml", {"flags": 1}, None),  # never inflated: not looked at
        ("xl/styles.xml", {"data": b"\xff\xff\xff\xff" * 8}, ("file-unreadable", "the file is damaged (")),
        (
            "xl/styles.xml",
            {"method": 12},
            ("file-unreadable", "the part 'xl/styles.xml' uses an unsupported compression"),
        ),
        (
            "xl/styles.xml",
            {"crc": 1},
            ("file-unreadable", "the file is damaged (the part 'xl/styles.xml' fails its checksum)"),
        ),
        ("xl/styles.xml", {"size": 1000}, ("file-unreadable", "fails its checksum")),  # declares more than it holds
    ],
)
def test_parts_are_inflated_no_further_than_they_declare(tmp_path, part, override, result):
    path = raw_xlsx(tmp_path / "p.xlsx", **{part: override})
    if result is None:
        assert inspect(path).kind == "xlsx"
    else:
        code, message = refused(path)
        assert code == result[0] and result[1] in message, message


def test_a_deflate_stream_that_stops_before_its_end_fails_its_checksum(tmp_path):
    """All the part's stored bytes are there, but the stream in them ends early: damaged, not truncated."""
    data = random.Random(2).randbytes(5000)
    path = raw_xlsx(
        tmp_path / "early.xlsx",
        **{"xl/styles.xml": {"data": deflate(data)[:-100], "crc": zlib.crc32(data), "size": 5000}},
    )
    assert refused(path) == ("file-unreadable", "the file is damaged (the part 'xl/styles.xml' fails its checksum)")


def test_an_empty_part_stored_in_no_bytes_is_empty(tmp_path):
    path = raw_xlsx(tmp_path / "empty.xlsx", **{"xl/styles.xml": {"data": b"", "crc": 0, "size": 0}})
    assert inspect(path).calamine_parts["xl/styles.xml"] == b""


def test_the_last_stored_byte_of_a_part_is_read(tmp_path):
    """A part whose stored bytes take one 1 MB read and one byte more."""
    noise = random.Random(3).randbytes(MIB)
    for n in range(MIB - 200, MIB):
        packer = zlib.compressobj(0, zlib.DEFLATED, -15)  # stored blocks: one more input byte, one more stored byte
        body = b"<styleSheet>" + noise[: n - 12]
        stream = packer.compress(body) + packer.flush()
        if len(stream) == MIB + 1:
            break
    assert len(stream) == MIB + 1
    path = raw_xlsx(
        tmp_path / "edge.xlsx", **{"xl/styles.xml": {"data": stream, "crc": zlib.crc32(body), "size": len(body)}}
    )
    assert inspect(path).calamine_parts["xl/styles.xml"] == body


def test_a_lying_part_is_refused_in_bounded_memory(tmp_path):
    """4 KB declared, 40 MB inside: refused having inflated one byte past 4 KB, not the 40 MB."""
    import tracemalloc

    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = b"".join(packer.compress(b"\0" * MIB) for _ in range(40)) + packer.flush()
    path = raw_xlsx(tmp_path / "bomb.xlsx", **{"xl/styles.xml": {"data": stream, "size": 4096}})
    tracemalloc.start()
    try:
        code, message = refused(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (code, message) == (
        "file-refused",
        "the part 'xl/styles.xml' declares 4096 bytes but inflates to more; refused as a zip bomb",
    )
    assert peak < 8 * MIB


def test_a_stored_part_that_matches_its_header_passes(tmp_path):
    data = xlsx_parts()["xl/styles.xml"]
    path = raw_xlsx(tmp_path / "s.xlsx", **{"xl/styles.xml": {"data": data, "method": 0}})
    assert inspect(path).calamine_parts["xl/styles.xml"] == data


@pytest.mark.parametrize("method", [0, 8])
def test_a_part_cut_short_is_damaged(tmp_path, method):
    """The part claims more stored bytes than the file holds after it."""
    data = bytes(range(256)) * 400  # 100 KB; deflated in stored blocks, so whatever follows reads as data
    entries = [honest(n, d) for n, d in xlsx_parts().items() if n != "xl/styles.xml"]
    packer = zlib.compressobj(0, zlib.DEFLATED, -15)
    stored = data if method == 0 else packer.compress(data) + packer.flush()
    cut = {
        "name": "xl/styles.xml",
        "data": stored[:30_000],
        "crc": zlib.crc32(data),
        "size": 10**6,
        "packed": 10**6,
        "method": method,
    }
    raw_zip(tmp_path / "cut.xlsx", entries + [cut])  # the file ends (after the directory) before the part does
    assert refused(tmp_path / "cut.xlsx") == ("file-unreadable", "the file is damaged or truncated")


@pytest.mark.parametrize("method", [0, 8])
def test_a_local_header_with_an_extra_field_is_read_past_it(tmp_path, method):
    """Zip tools put timestamps and zip64 sizes in the local header's extra field; the data follows it."""
    data = xlsx_parts()["xl/styles.xml"]
    stored = data if method == 0 else deflate(data)
    extra = struct.pack("<HH", 0x5455, 5) + b"\x01abcd"  # an extended timestamp
    path = raw_xlsx(tmp_path / "x.xlsx", **{"xl/styles.xml": {"data": stored, "method": method, "extra": extra}})
    assert inspect(path).calamine_parts["xl/styles.xml"] == data


def test_a_bad_local_header_is_damaged(tmp_path):
    path = raw_xlsx(tmp_path / "h.xlsx")
    data = path.read_bytes()
    at = data.index(b"PK\x03\x04xl/styles.xml"[:4], data.index(b"xl/styles.xml") - 30)
    path.write_bytes(data[:at] + b"PK\x03\x05" + data[at + 4 :])
    assert refused(path) == ("file-unreadable", "the file is damaged or truncated (bad part header)")


def test_a_part_inflating_past_the_part_cap_is_refused_even_when_it_says_so(tmp_path, monkeypatch):
    """An honest header over MAX_PART (100 MB; 3 MB here, to be quick): inflating stops one byte past it."""
    assert MAX_PART == 100 * MIB  # the documented cap of one part
    monkeypatch.setattr(gate, "MAX_PART", 3 * MIB)
    for size, refuse in ((3 * MIB + 1, True), (3 * MIB, False)):
        packer = zlib.compressobj(1, zlib.DEFLATED, -15)
        body = b"\0" * size
        stream = packer.compress(body) + packer.flush()
        padding = b"\0" * (size // MAX_RATIO)  # stored bytes after the stream end: within the ratio
        part = {"data": stream + padding, "size": size, "crc": zlib.crc32(body)}
        path = raw_xlsx(tmp_path / "huge.xlsx", **{"xl/theme/theme1.xml": {}, "xl/styles.xml": part})
        if refuse:
            assert refused(path) == (
                "file-refused",
                "the part 'xl/styles.xml' inflates to more than 3 MB; refused as a zip bomb",
            )
        else:
            assert len(inspect(path).calamine_parts["xl/styles.xml"]) == size


def test_a_part_exactly_at_the_declared_size_inflates_whole(tmp_path):
    """The bounded stream stops one byte past the declared size, so a part of exactly that size is read
    whole, also when its stored bytes take more than one read (1 MB each)."""
    body = f'<styleSheet xmlns="{MAIN}"><!-- '.encode() + random.Random(5).randbytes(1_100_000) + b" --></styleSheet>"
    path = raw_xlsx(
        tmp_path / "big.xlsx", **{"xl/styles.xml": {"data": deflate(body), "size": len(body), "crc": zlib.crc32(body)}}
    )
    path2 = zipped(tmp_path / "big2.xlsx", {**xlsx_parts(), "xl/styles.xml": body})
    for p in (path, path2):
        assert inspect(p).calamine_parts["xl/styles.xml"] == body


# ---- DTDs and entities in the prolog of a part someone reads ---------------------------------------


def utf16(text: str, codec: str, bom: bytes = b"") -> bytes:
    return bom + text.encode(codec)


DOCTYPE = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><lolz>&lol;</lolz>'


@pytest.mark.parametrize(
    ("data", "refuse"),
    [
        (DOCTYPE.encode(), True),
        (b'<!DOCTYPE x><x/>', True),  # at the very first byte
        (b'<?xml version="1.0"?>\n<!ENTITY a "b"><x/>', True),
        (b"<?xml?><!doctype x><x/>", True),  # case-blind
        (b"<?xml?><! DOCTYPE x><x/>", True),
        (b"<?xml?><!--" + b"c" * (PROLOG_BYTES - 100) + b"--><!DOCTYPE x><x/>", True),  # the prolog's last bytes
        (b'<?xml version="1.0"?><!-- a comment --><x/>', False),
        (b'<?xml version="1.0"?><x><![CDATA[<!DOCTYPE x>]]></x>', False),  # after the root: text, no DTD
        (b'<?xml version="1.0"?><x><!-- <!ENTITY a "b"> --></x>', False),
        (b"<x/>", False),
        (b"", False),
        (utf16(DOCTYPE, "utf-16-le", b"\xff\xfe"), True),
        (utf16(DOCTYPE, "utf-16-be", b"\xfe\xff"), True),
        (utf16(DOCTYPE, "utf-16-le"), True),  # without a byte-order mark
        (utf16(DOCTYPE, "utf-16-be"), True),
        (utf16('<?xml version="1.0"?><x>&lt;!DOCTYPE</x>', "utf-16-le", b"\xff\xfe"), False),
        (utf16('<?xml version="1.0"?><x/>', "utf-16-be"), False),
        (b"<?xml?>" + b" " * 150 + b"\x00" + b"<!DOCTYPE x><x/>", False),  # a zero byte: read as UTF-16, no DTD
    ],
)
def test_a_dtd_before_the_root_is_refused_in_any_encoding(data, refuse):
    if refuse:
        with pytest.raises(Refused) as caught:
            gate._check_prolog("xl/sharedStrings.xml", data)
        assert caught.value.code == "file-refused"
        assert caught.value.message == (
            "the part 'xl/sharedStrings.xml' declares XML entities (a DTD); refused, entities are never expanded"
        )
    else:
        gate._check_prolog("xl/sharedStrings.xml", data)


@pytest.mark.parametrize(
    ("part", "refuse"),
    [("xl/sharedStrings.xml", True), ("xl/worksheets/sheet1.xml", True), ("xl/theme/theme1.xml", False)],
)
def test_a_dtd_is_looked_for_in_the_parts_that_are_read(tmp_path, part, refuse):
    parts = {**xlsx_parts(), part: DOCTYPE.encode()}
    path = zipped(tmp_path / "dtd.xlsx", parts)
    if refuse:
        assert refused(path)[0] == "file-refused"
    else:
        inspect(path)


@pytest.mark.parametrize(
    ("part", "refuse"),
    [
        ("xl/worksheets/_rels/sheet1.xml.rels", True),  # a sheet's relationships: read with the sheet
        ("xl/worksheets/sheet9.xml", True),  # under xl/worksheets/: a sheet part, named or not
        ("xl/worksheets/notes.txt", False),
        ("xl/drawings/drawing1.xml", False),  # nobody reads it: not inflated
        ("docProps/app.xml", False),
        ("docProps/core.xml", True),
        ("docProps/custom.xml", True),
        ("xl/sharedStrings.xml", True),
        ("XL/SharedStrings.xml", True),  # calamine finds its parts case-blind
    ],
)
def test_which_parts_are_inflated_and_looked_at(tmp_path, part, refuse):
    parts = {**xlsx_parts(), part: DOCTYPE.encode()}
    path = zipped(tmp_path / "which.xlsx", parts)
    if refuse:
        assert refused(path) == (
            "file-refused",
            f"the part {part!r} declares XML entities (a DTD); refused, entities are never expanded",
        )
    else:
        assert part not in inspect(path).calamine_parts


# ---- document properties ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("   ", ""),
        (None, ""),
        ("2026-01-05T10:00:00Z", "2026-01-05T10:00:00+00:00"),
        (" 2026-01-05T10:00:00Z\n", "2026-01-05T10:00:00+00:00"),
        ("2026-01-05T12:30:00+02:00", "2026-01-05T10:30:00+00:00"),
        ("2026-01-05T10:00:00", "2026-01-05T10:00:00+00:00"),  # naive: taken as UTC
        ("2026-01-05T10:00:00.987654Z", "2026-01-05T10:00:00+00:00"),
        ("2026-01-05", "2026-01-05T00:00:00+00:00"),
        ("2026-01-05Z", "2026-01-05T00:00:00+00:00"),
        ("yesterday", "yesterday"),  # not a time: kept as written
    ],
)
def test_times_are_normalised_to_utc_seconds(text, expected):
    assert normalise_time(text) == expected


@pytest.mark.parametrize(
    ("core_xml", "custom_xml", "props"),
    [
        (core("2026-03-01T08:00:00+01:00"), None, {"modified": "2026-03-01T07:00:00+00:00"}),
        (core(""), None, {}),
        (
            None,
            custom(**{"cascadebook.kind": "plan", "cascadebookx": "no", "Cascadebook.cycle": "no"}),
            {"meta:kind": "plan"},
        ),
        (None, custom(**{"cascadebook.signature": ""}), {"meta:signature": ""}),
        (
            None,
            (
                b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties">'
                b'<property name="cascadebook.cycle"/></Properties>'
            ),
            {},
        ),  # a property without a value element is no value
    ],
)
def test_document_properties_are_read_from_core_and_custom(tmp_path, core_xml, custom_xml, props):
    parts = xlsx_parts()
    if core_xml is not None:
        parts["docProps/core.xml"] = core_xml
    if custom_xml is not None:
        parts["docProps/custom.xml"] = custom_xml
    assert inspect(zipped(tmp_path / "props.xlsx", parts)).props == props


# ---- which parts are sheets --------------------------------------------------------------------------


def test_sheet_parts_are_resolved_the_way_calamine_does():
    parts = {
        "xl/workbook.xml": workbook(("A", "r1"), ("B", "r2"), ("C", "r3"), ("D", "r9")),
        "xl/_rels/workbook.xml.rels": rels(
            ("r1", "/xl/worksheets/One.xml"), ("r2", "xl/Two.xml"), ("r3", "data/THREE")
        ),
    }
    assert gate._sheet_parts(parts) == {"xl/worksheets/one.xml": "A", "xl/two.xml": "B", "xl/data/three": "C"}
    assert gate._sheet_parts({"xl/workbook.xml": workbook(("A", "r1"))}) == {}  # no relationships: no sheets
    assert gate._sheet_parts({"xl/workbook.xml": b"<workbook"}) == {}  # broken: calamine's to report
    unnamed = {
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet r:id="r1"/></sheets></workbook>'.encode(),
        "xl/_rels/workbook.xml.rels": rels(("r1", "worksheets/s.xml")),
    }
    assert gate._sheet_parts(unnamed) == {"xl/worksheets/s.xml": ""}


FAR = '<row r="1"><c r="A1" t="inlineStr"><is><t>plan</t></is></c></row><row r="1048576"><c r="XFD1048576" t="s"><v>{}</v></c></row>'
SST = f'<sst xmlns="{MAIN}"><si><t>zero</t></si><si><r><t>o</t></r><r><t>ne</t></r></si></sst>'.encode()


@pytest.mark.parametrize(("index", "text"), [(1, "one"), (0, "zero"), (7, "(shared string 7)")])
def test_a_stray_shared_string_is_named_by_its_text(tmp_path, index, text):
    parts = {**xlsx_parts(sheet(FAR.format(index).encode().decode())), "xl/sharedStrings.xml": SST}
    package = inspect(zipped(tmp_path / "far.xlsx", parts))
    scan = package.scan("Plan")
    assert scan.strays == [(1048576, 16384, text)] and scan.stray_count == 1
    assert package.cells("Plan") == 1
    assert b"XFD1048576" not in package.calamine_parts["xl/worksheets/sheet1.xml"]  # left out of what calamine reads
    assert package.calamine_parts["xl/sharedStrings.xml"] == SST


def test_a_stray_shared_string_without_a_shared_strings_part(tmp_path):
    package = inspect(zipped(tmp_path / "far.xlsx", xlsx_parts(sheet(FAR.format(0)))))
    assert package.scan("Plan").strays == [(1048576, 16384, "(shared string 0)")]


def test_a_sheet_no_name_points_at_counts_for_names_that_cannot_be_mapped(tmp_path):
    parts = xlsx_parts()
    parts["xl/worksheets/orphan.xml"] = sheet('<row r="20000"><c r="BA20000"><v>1</v></c></row>')
    package = inspect(zipped(tmp_path / "orphan.xlsx", parts))
    assert "xl/worksheets/orphan.xml" in package.calamine_parts
    assert package.cells("Plan") == SMALL_ROWS * SMALL_COLS
    assert package.cells("Renamed") == 20000 * 53  # the worst of every sheet part, mapped or not
    assert package.largest == 20000 * 53 and package.unmapped == []
    assert package.cells("Plan") == SMALL_ROWS * SMALL_COLS


def test_a_name_that_cannot_be_mapped_counts_every_sheet_not_yet_scanned(tmp_path):
    parts = xlsx_parts()
    parts["xl/workbook.xml"] = workbook(("Plan", "rId1"), ("Big", "rId2"))
    parts["xl/_rels/workbook.xml.rels"] = rels(("rId1", "worksheets/sheet1.xml"), ("rId2", "worksheets/sheet2.xml"))
    # a cell without a reference (placed by position) keeps the far cells in: the sheet is as large as it reaches
    parts["xl/worksheets/sheet2.xml"] = sheet('<row r="20000"><c r="BA20000"><v>1</v></c><c><v>2</v></c></row>')
    package = inspect(zipped(tmp_path / "two.xlsx", parts))
    assert package.sheets == {}  # nothing scanned before it is asked for
    assert package.cells("Unknown") == 20000 * 54
    assert set(package.sheets) == {"Plan", "Big"} and package.pending == {}
    assert package.cells("Big") == 20000 * 54 and package.cells("Plan") == SMALL_ROWS * SMALL_COLS


# ---- OpenDocument ----------------------------------------------------------------------------------

ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"'
)


def ods(
    path: Path, tables: str, mimetype: bytes | None = b"application/vnd.oasis.opendocument.spreadsheet", **extra: bytes
) -> Path:
    content = f"<office:document-content {ODS_NS}><office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>"
    parts = {} if mimetype is None else {"mimetype": mimetype}
    return zipped(path, {**parts, "content.xml": content.encode(), **extra})


def cell(value: str = "1", **attrs: str) -> str:
    more = "".join(f' table:{k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<table:table-cell office:value-type="float" office:value="{value}"{more}/>'


@pytest.mark.parametrize(
    ("tables", "extents"),
    [
        (
            f'<table:table table:name="A"><table:table-row>{cell()}{cell()}</table:table-row></table:table>',
            {"A": (1, 2)},
        ),
        # empty rows and empty cells move on without a value
        (
            (
                '<table:table table:name="A"><table:table-row/><table:table-row table:number-rows-repeated="3"/>'
                f'<table:table-row><table:table-cell/><table:table-cell table:number-columns-repeated="4"/>{cell()}</table:table-row>'
                "</table:table>"
            ),
            {"A": (5, 6)},
        ),
        # repeated rows and columns count as calamine expands them
        (
            (
                f'<table:table table:name="A"><table:table-row table:number-rows-repeated="7">{cell(number_columns_repeated="3")}'
                "</table:table-row><table:table-row><table:table-cell/></table:table-row></table:table>"
            ),
            {"A": (7, 3)},
        ),
        # a cell with content but no value type is a value (text)
        (
            (
                '<table:table table:name="R&amp;D"><table:table-row><table:table-cell/><table:table-cell><text:p>x</text:p>'
                "</table:table-cell></table:table-row></table:table>"
            ),
            {"R&D": (1, 2)},
        ),
        # two tables, each its own extent
        (
            (
                f'<table:table table:name="A"><table:table-row>{cell()}</table:table-row></table:table>'
                f'<table:table table:name="B"><table:table-row/><table:table-row>{cell()}{cell()}{cell()}</table:table-row></table:table>'
            ),
            {"A": (1, 1), "B": (2, 3)},
        ),
    ],
)
def test_ods_tables_are_measured_as_calamine_expands_them(tmp_path, tables, extents):
    package = inspect(ods(tmp_path / "t.ods", tables))
    assert package.kind == "ods"
    assert {name: (s.rows, s.cols) for name, s in package.sheets.items()} == extents
    assert package.largest == max(r * c for r, c in extents.values())
    assert package.calamine_parts == {}  # nothing trimmed: calamine reads the file as it is
    assert {s.part for s in package.sheets.values()} == {"content.xml"}  # where the table was read


def test_ods_formulas_without_a_value_are_found(tmp_path):
    tables = (
        '<table:table table:name="A"><table:table-row>'
        '<table:table-cell table:formula="of:=1+1" office:value-type="float" office:value="2"/>'
        '<table:table-cell table:formula="of:=2+2"/></table:table-row>'
        '<table:table-row table:number-rows-repeated="2"><table:table-cell/>'
        '<table:table-cell table:formula="of:=3" table:number-columns-repeated="2"/></table:table-row></table:table>'
    )
    scan = inspect(ods(tmp_path / "f.ods", tables)).sheets["A"]
    assert scan.uncached == {(1, 2), (2, 2), (2, 3), (3, 2), (3, 3)}


def test_ods_uncached_formulas_repeated_far_are_bounded(tmp_path):
    tables = (
        '<table:table table:name="A"><table:table-row table:number-rows-repeated="5000">'
        '<table:table-cell table:formula="of:=3" table:number-columns-repeated="500"/></table:table-row></table:table>'
    )
    scan = inspect(ods(tmp_path / "f.ods", tables)).sheets["A"]
    assert len(scan.uncached) == 1000 * 100 and max(scan.uncached) == (1000, 100)


@pytest.mark.parametrize(
    ("mimetype", "extra", "result"),
    [
        (
            b"application/vnd.oasis.opendocument.text",
            {},
            ("file-unreadable", "the file is an OpenDocument file but not a spreadsheet"),
        ),
        (b"application/vnd.oasis.opendocument.spreadsheet\n", {}, None),
        (None, {}, None),
        (
            b"application/vnd.oasis.opendocument.spreadsheet",
            {"META-INF/manifest.xml": b'<manifest><file-entry><encryption-data checksum="x"/></file-entry></manifest>'},
            ("file-encrypted", "the spreadsheet is protected with a password"),
        ),
        (
            b"application/vnd.oasis.opendocument.spreadsheet",
            {"Thumbnails/a.xml": DOCTYPE.encode()},
            ("file-refused", "declares XML entities"),
        ),
        (
            b"application/vnd.oasis.opendocument.spreadsheet",
            {"a.rels": DOCTYPE.encode()},
            ("file-refused", "declares XML entities"),
        ),
        (b"application/vnd.oasis.opendocument.spreadsheet", {"Pictures/a.png": DOCTYPE.encode()}, None),
    ],
)
def test_ods_packages_are_checked_like_workbooks(tmp_path, mimetype, extra, result):
    path = ods(
        tmp_path / "o.ods",
        f'<table:table table:name="A"><table:table-row>{cell()}</table:table-row></table:table>',
        mimetype,
        **extra,
    )
    if result is None:
        assert inspect(path).sheets["A"].rows == 1
    elif result[0] == "file-refused":
        part = next(iter(extra))
        assert refused(path) == (
            "file-refused",
            f"the part {part!r} declares XML entities (a DTD); refused, entities are never expanded",
        )
    else:
        assert refused(path) == result


def test_ods_properties_come_from_meta_xml(tmp_path):
    meta = (
        f"<office:document-meta {ODS_NS}><office:meta><dc:date>2026-04-01T10:00:00.5</dc:date>"
        '<meta:user-defined meta:name="cascadebook.department"> FIN </meta:user-defined>'
        '<meta:user-defined meta:name="cascadebook.cycle"/>'
        '<meta:user-defined meta:name="Author">x</meta:user-defined>'
        "</office:meta></office:document-meta>"
    ).encode()
    path = ods(tmp_path / "m.ods", '<table:table table:name="A"/>', **{"meta.xml": meta})
    assert inspect(path).props == {"modified": "2026-04-01T10:00:00+00:00", "meta:department": "FIN", "meta:cycle": ""}


def test_an_ods_stray_value_is_left_out_of_what_calamine_reads(tmp_path):
    tables = (
        '<table:table table:name="Plan"><table:table-row>'
        f'{cell("5")}{cell("6")}</table:table-row>'
        '<table:table-row table:number-rows-repeated="1048574"><table:table-cell/></table:table-row>'
        '<table:table-row><table:table-cell office:value-type="string"><text:p>oops</text:p></table:table-cell>'
        "</table:table-row></table:table>"
    )
    package = inspect(ods(tmp_path / "s.ods", tables))
    scan = package.sheets["Plan"]
    assert scan.strays == [(1048576, 1, "oops")] and (scan.rows, scan.cols) == (1, 2)
    assert package.largest == 2
    content = package.calamine_parts["content.xml"]
    assert b"oops" not in content and b"office:value=\"6\"" in content
    assert next(iter(package.calamine_parts)) == "mimetype"  # first, as OpenDocument wants it
    assert package.calamine_parts["mimetype"] == b"application/vnd.oasis.opendocument.spreadsheet"


def test_an_ods_table_filled_far_is_too_large_not_stray(tmp_path):
    tables = (
        '<table:table table:name="Plan"><table:table-row>'
        f'{cell("5")}</table:table-row>'
        f'<table:table-row table:number-rows-repeated="20000">{cell("1", number_columns_repeated="200")}</table:table-row>'
        "</table:table>"
    )
    package = inspect(ods(tmp_path / "big.ods", tables))
    scan = package.sheets["Plan"]
    assert (scan.rows, scan.cols, scan.strays) == (20001, 200, [])
    assert package.largest == 20001 * 200 and package.calamine_parts == {}


@pytest.mark.parametrize(("rows", "kept"), [(40_000, True), (40_001, False)])
def test_an_ods_plan_of_up_to_two_million_cells_keeps_its_stray_out(tmp_path, rows, kept):
    """Left without its stray value, a table of exactly MAX_CELLS (2,000,000) cells is read; one row more is too large."""
    tables = (
        '<table:table table:name="Plan">'
        f'<table:table-row table:number-rows-repeated="{rows}">{cell("1", number_columns_repeated="50")}</table:table-row>'
        '<table:table-row table:number-rows-repeated="1000000"><table:table-cell/></table:table-row>'
        '<table:table-row><table:table-cell office:value-type="string"><text:p>far</text:p></table:table-cell>'
        "</table:table-row></table:table>"
    )
    package = inspect(ods(tmp_path / "edge.ods", tables, mimetype=b"application/vnd.oasis.opendocument.spreadsheet\n"))
    scan = package.sheets["Plan"]
    if kept:
        assert scan.strays == [(rows + 1_000_001, 1, "far")] and package.largest == 2_000_000
        assert b"far" not in package.calamine_parts["content.xml"]
        # the other parts as they came: the mimetype with its newline
        assert package.calamine_parts["mimetype"] == b"application/vnd.oasis.opendocument.spreadsheet\n"
    else:
        assert scan.strays == [] and package.largest > 2_000_000 and package.calamine_parts == {}


def test_cells_outside_any_table_are_not_counted(tmp_path):
    content = f'<table:table-row>{cell()}</table:table-row><table:table table:name="A"><table:table-row>{cell()}</table:table-row></table:table>'
    package = inspect(ods(tmp_path / "out.ods", content))
    assert {n: (s.rows, s.cols) for n, s in package.sheets.items()} == {"A": (1, 1)}


def test_an_ods_value_far_right_is_a_stray(tmp_path):
    tables = (
        '<table:table table:name="Plan"><table:table-row>'
        f'{cell("5")}<table:table-cell table:number-columns-repeated="16000"/>{cell("9")}'
        "</table:table-row></table:table>"
    )
    package = inspect(ods(tmp_path / "right.ods", tables))
    scan = package.sheets["Plan"]
    assert scan.strays == [(1, 16002, "9")] and (scan.rows, scan.cols) == (1, 1) and package.largest == 1


def test_strays_are_kept_in_only_when_what_is_left_is_small_enough(tmp_path):
    """Another table of the file genuinely too large: the file is too large as it is, no stray is left out."""
    stray = (
        '<table:table table:name="Plan"><table:table-row>'
        f'{cell("5")}</table:table-row><table:table-row table:number-rows-repeated="1048574"><table:table-cell/>'
        f"</table:table-row><table:table-row>{cell('7')}</table:table-row></table:table>"
    )
    big = (
        '<table:table table:name="Big">'
        f'<table:table-row table:number-rows-repeated="30000">{cell("1", number_columns_repeated="100")}</table:table-row>'
        "</table:table>"
    )
    package = inspect(ods(tmp_path / "both.ods", stray + big))
    assert package.sheets["Plan"].strays == [] and package.sheets["Plan"].stray_count == 0
    assert package.largest == 3_000_000 and package.calamine_parts == {}
    alone = inspect(ods(tmp_path / "alone.ods", stray))
    assert alone.sheets["Plan"].strays == [(1048576, 1, "7")] and alone.sheets["Plan"].stray_count == 1
