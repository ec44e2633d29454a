"""collect's branches no test reached (issue 17): encrypted and oversized zip members, archives nested
past the limit, an Outlook .msg attached to an e-mail, two attachments with the same name. Real files,
collected into a folder; the manifest entries and the collected workbooks checked."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import struct
import zipfile
from email import policy

from cascadebook.inbox.collect import collect
from cascadebook.inbox.messages import MAX_DEPTH, MAX_MEMBER
from mail_fixtures import UTC, XLSX, clean_rows, cycle, message  # noqa: F401 - fixture
from mail_fixtures.msgfile import write_msg

SEP = " › "


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def _with_member_header(data: bytes, member: str, *, flags: int | None = None, declared: int | None = None) -> bytes:
    """The zip with one member's general-purpose flags or declared size rewritten in both its headers
    (as an encrypting zip tool, or a crafted archive, writes them)."""
    raw = bytearray(data)
    name = member.encode()
    for signature, flag_at, size_at, name_len_at, name_at in (
        (b"PK\x03\x04", 6, 22, 26, 30),
        (b"PK\x01\x02", 8, 24, 28, 46),
    ):
        start = 0
        while (start := raw.find(signature, start)) >= 0:
            length = struct.unpack_from("<H", raw, start + name_len_at)[0]
            if bytes(raw[start + name_at : start + name_at + length]) == name:
                if flags is not None:
                    struct.pack_into("<H", raw, start + flag_at, flags)
                if declared is not None:
                    struct.pack_into("<I", raw, start + size_at, declared)
            start += 4
    return bytes(raw)


def _entries(result) -> dict[str, tuple[str, str]]:
    return {e.source: (e.status, e.note) for e in result.entries}


def test_encrypted_and_oversized_zip_members_are_reported_and_the_rest_collected(cycle):
    """A zip of three workbooks: one member encrypted (a password-protected zip), one declaring more than
    100 MB. Each is an unreadable entry saying why; the third is collected; none of the refused bytes
    reach the folder."""
    books = {code: cycle.fill(code).read_bytes() for code in ("MKT", "SAL", "OPS")}
    data = _zip_bytes({"MKT.xlsx": books["MKT"], "SAL.xlsx": books["SAL"], "OPS.xlsx": books["OPS"]})
    data = _with_member_header(data, "SAL.xlsx", flags=0x1)
    data = _with_member_header(data, "OPS.xlsx", declared=MAX_MEMBER + 1)
    source = cycle.root / "mail"
    source.mkdir()
    (source / "returns.zip").write_bytes(data)
    result = collect([source], cycle.root / "collected", strategy=cycle.strategy)
    assert _entries(result) == {
        f"mail/returns.zip{SEP}MKT.xlsx": ("collected", ""),
        f"mail/returns.zip{SEP}OPS.xlsx": ("unreadable", "the archive member is too large"),
        f"mail/returns.zip{SEP}SAL.xlsx": ("unreadable", "the archive member is encrypted"),
    }
    written = sorted(p.name for p in (cycle.root / "collected").iterdir() if p.suffix == ".xlsx")
    assert written == ["MKT.xlsx"] and (cycle.root / "collected" / "MKT.xlsx").read_bytes() == books["MKT"]


def test_archives_nested_past_the_limit_are_reported_not_opened(cycle):
    """Zips in zips: archives are opened down to depth MAX_DEPTH (the file itself is depth 0), so a workbook
    inside MAX_DEPTH + 1 archives is collected; an archive one level deeper is not opened but is an
    unreadable entry, 'nested too deeply', and the workbook in it is not collected."""
    book = cycle.fill("MKT").read_bytes()
    deep = book

    def nest(levels: int) -> bytes:
        data, name = book, "MKT.xlsx"
        for level in range(levels):
            data, name = _zip_bytes({name: data}), f"level{levels - level}.zip"
        return data

    source = cycle.root / "mail"
    source.mkdir()
    (source / "ok.zip").write_bytes(nest(MAX_DEPTH + 1))
    (source / "deep.zip").write_bytes(nest(MAX_DEPTH + 2))
    result = collect([source], cycle.root / "collected")
    entries = _entries(result)
    ok = f"mail/ok.zip{SEP}" + SEP.join(f"level{n}.zip" for n in range(2, MAX_DEPTH + 2)) + f"{SEP}MKT.xlsx"
    assert entries[ok] == ("collected", "")
    [(where, why)] = [(k, v) for k, v in entries.items() if k.startswith("mail/deep.zip")]
    assert why == ("unreadable", "nested too deeply")
    assert where == f"mail/deep.zip{SEP}" + SEP.join(f"level{n}.zip" for n in range(2, MAX_DEPTH + 3))
    assert [e.sha256 for e in result.collected] == [hashlib.sha256(deep).hexdigest()]


def test_an_outlook_msg_attached_to_an_email_is_opened_and_its_author_kept(cycle):
    """An assistant forwards Finance's Outlook message as a .msg attachment: its workbook is collected as
    sent by Finance's head when Finance sent it; the assistant is kept as who forwarded it."""
    book = cycle.fill("FIN").read_bytes()
    folder = cycle.root / "build"
    folder.mkdir()
    sent = dt.datetime(2027, 1, 20, 9, tzinfo=UTC)
    msg_path = write_msg(
        folder / "FIN plan.msg",
        sender="grace.okafor@northwind.example",
        sender_name="Grace Okafor",
        to="strategy@northwind.example",
        subject="FIN goal plan",
        body="Attached.",
        date=sent,
        attachments=[("FY2027_FIN.xlsx", book)],
    )
    outer = message(
        "Sam Lee <sam.lee@northwind.example>",
        "Fwd: FIN goal plan",
        dt.datetime(2027, 1, 22, 9, tzinfo=UTC),
        [("FIN plan.msg", msg_path.read_bytes(), "application/vnd.ms-outlook")],
    )
    source = cycle.root / "mail"
    source.mkdir()
    (source / "forwarded.eml").write_bytes(outer.as_bytes(policy=policy.SMTP))
    result = collect([source], cycle.root / "collected", strategy=cycle.strategy)
    [entry] = result.collected
    assert entry.source == f"mail/forwarded.eml{SEP}FIN plan.msg{SEP}FY2027_FIN.xlsx"
    assert (entry.sender, entry.date, entry.department) == (
        "grace.okafor@northwind.example",
        "2027-01-20T09:00:00Z",
        "FIN",
    )
    assert "sam.lee@northwind.example" in entry.forwarded_by
    assert (cycle.root / "collected" / entry.file).read_bytes() == book
    assert not [f for f in result.findings if f.code == "sender-not-head"]


def test_two_attachments_with_the_same_name_are_both_collected(cycle):
    """One e-mail with two different workbooks both called plan.xlsx (Marketing's and Sales'): both are
    collected under names of their own, neither overwrites the other."""
    mkt, sal = cycle.fill("MKT").read_bytes(), cycle.fill("SAL").read_bytes()
    sent = dt.datetime(2027, 1, 21, 9, tzinfo=UTC)
    mail = message(
        "Dana Whitfield <strategy@northwind.example>",
        "Two plans",
        sent,
        [("plan.xlsx", mkt, XLSX), ("plan.xlsx", sal, XLSX)],
    )
    source = cycle.root / "mail"
    source.mkdir()
    (source / "two.eml").write_bytes(mail.as_bytes(policy=policy.SMTP))
    out = cycle.root / "collected"
    result = collect([source], out)
    collected = result.collected
    assert [e.status for e in result.entries] == ["collected", "collected"]
    assert len({e.file for e in collected}) == 2
    assert sorted((out / e.file).read_bytes() for e in collected) == sorted([mkt, sal])
    assert sorted(e.department for e in collected) == ["MKT", "SAL"]
