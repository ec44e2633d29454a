"""cascadebook collect, and reconcile reading mail sources directly: .eml, .mbox, Maildir, .zip, .msg."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import mailbox
import zipfile
from email import policy

import pytest
from click.testing import CliRunner

from cascadebook import reconcile
from cascadebook.cli import cli
from cascadebook.inbox.collect import collect
from cascadebook.inbox.messages import iter_items
from mail_fixtures import KEY, UTC, XLSX, clean_rows, cycle, initiative, message  # noqa: F401 - fixture
from mail_fixtures.msgfile import write_msg

PDF = "application/pdf"


def when(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2027, 1, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def inbox(cycle):
    """The strategy office's mail after a few weeks, saved every way a mail client can save it."""
    c = cycle
    book = {
        "MKT": c.fill("MKT", saved_at=dt.datetime(2027, 1, 19, 9)),
        # Sales: the draft was saved last but mailed first; the final saved earlier, mailed later
        "SAL draft": c.fill(
            "SAL",
            "SAL draft.xlsx",
            rows={"initiatives": [initiative("CO1", "Draft idea", 1, 2)]},
            saved_at=dt.datetime(2027, 1, 25, 9),
        ),
        "SAL final": c.fill(
            "SAL", "SAL final.xlsx", rows=clean_rows("SAL", "Final"), saved_at=dt.datetime(2027, 1, 10, 9)
        ),
        "OPS": c.fill("OPS", saved_at=dt.datetime(2027, 1, 20, 9)),
        "RND": c.fill("RND", saved_at=dt.datetime(2027, 1, 21, 9)),
        "FIN": c.fill("FIN", saved_at=dt.datetime(2027, 1, 22, 9)),
    }
    data = {k: p.read_bytes() for k, p in book.items()}
    mail = c.root / "mail"
    mail.mkdir()

    # .eml: Marketing, with a PDF beside the workbook
    eml = message(
        "Priya Raman <priya.raman@northwind.example>",
        "RE: FY2027 goal plan for Marketing",
        when(20),
        [("Marketing goals FY27 - final.xlsx", data["MKT"], XLSX), ("brief.pdf", b"%PDF-1.4 ...", PDF)],
    )
    (mail / "marketing.eml").write_bytes(eml.as_bytes(policy=policy.SMTP))

    # .mbox: the Sales draft, a note without attachment, the Sales final, and Marketing's workbook again
    box = mailbox.mbox(str(mail / "inbox.mbox"))
    for msg in (
        message(
            "Marcus Bell <marcus.bell@northwind.example>",
            "Sales draft",
            when(12),
            [("FY2027_SAL.xlsx", data["SAL draft"], XLSX)],
        ),
        message("Marcus Bell <marcus.bell@northwind.example>", "Final version tomorrow", when(21)),
        message(
            "Marcus Bell <marcus.bell@northwind.example>",
            "Sales final",
            when(22),
            [("FY2027_SAL.xlsx", data["SAL final"], XLSX)],
        ),
        message(
            "Priya Raman <priya.raman@northwind.example>",
            "Fwd: in case the first did not arrive",
            when(23),
            [("Marketing goals FY27 - final.xlsx", data["MKT"], "application/octet-stream")],
        ),
    ):
        box.add(msg.as_bytes(policy=policy.SMTP))
    box.flush()
    box.close()

    # Maildir: R&D from its head; Operations sent by an assistant, zipped
    md = mailbox.Maildir(str(mail / "Maildir"), create=True)
    md.add(
        message(
            "Tomasz Wojcik <tomasz.wojcik@northwind.example>",
            "R&D plan",
            when(24),
            [("R&D plan.xlsx", data["RND"], XLSX)],
        ).as_bytes(policy=policy.SMTP)
    )
    ops_zip = io.BytesIO()
    with zipfile.ZipFile(ops_zip, "w") as z:
        z.writestr("plan/FY2027_OPS.xlsx", data["OPS"])
        z.writestr("__MACOSX/plan/._FY2027_OPS.xlsx", b"junk")
    md.add(
        message(
            "Sam Lee <sam.lee@northwind.example>",
            "Operations plan on behalf of Elena",
            when(25),
            [("ops.zip", ops_zip.getvalue(), "application/zip")],
        ).as_bytes(policy=policy.SMTP)
    )
    md.close()

    # .zip of saved attachments, with a text file and an editor's lock file
    with zipfile.ZipFile(mail / "saved.zip", "w") as z:
        z.writestr("returns/FY2027_FIN.xlsx", data["FIN"])
        z.writestr("returns/readme.txt", "saved from Outlook")
        z.writestr("returns/~$FY2027_FIN.xlsx", b"lock")

    # .msg: Finance again, from Outlook (byte-identical to the zipped copy, but mailed later)
    write_msg(
        mail / "finance.msg",
        sender="grace.okafor@northwind.example",
        sender_name="Grace Okafor",
        to="strategy@northwind.example",
        subject="FIN goal plan",
        body="Attached.",
        date=when(26),
        attachments=[("FY2027_FIN.xlsx", data["FIN"]), ("logo.png", b"\x89PNG....")],
        message_id="<fin-1@northwind.example>",
    )
    write_msg(
        mail / "empty.msg",
        sender="liam.oconnor@northwind.example",
        sender_name="Liam O'Connor",
        to="strategy@northwind.example",
        subject="Out of office",
        body="Back on Monday.",
        date=when(27),
        attachments=[],
    )
    return c, mail, data


def test_each_source_kind_yields_its_attachments_with_the_message(inbox):
    _c, mail, data = inbox
    [mkt, pdf] = list(iter_items(mail / "marketing.eml"))
    assert (mkt.kind, mkt.display) == ("workbook", "marketing.eml › Marketing goals FY27 - final.xlsx")
    assert (mkt.sender, mkt.sender_name, mkt.date) == ("priya.raman@northwind.example", "Priya Raman", when(20))
    assert mkt.subject == "RE: FY2027 goal plan for Marketing" and mkt.data == data["MKT"]
    assert (pdf.kind, pdf.filename) == ("other", "brief.pdf")

    items = list(iter_items(mail / "inbox.mbox"))
    assert [(i.kind, i.display) for i in items] == [
        ("workbook", "inbox.mbox › message 1 › FY2027_SAL.xlsx"),
        ("no-attachment", "inbox.mbox › message 2"),
        ("workbook", "inbox.mbox › message 3 › FY2027_SAL.xlsx"),
        ("workbook", "inbox.mbox › message 4 › Marketing goals FY27 - final.xlsx"),
    ]
    items = list(iter_items(mail / "Maildir"))
    assert [(i.kind, i.display, i.sender) for i in items] == [
        ("workbook", "Maildir (Maildir) › message 1 › R&D plan.xlsx", "tomasz.wojcik@northwind.example"),
        ("workbook", "Maildir (Maildir) › message 2 › ops.zip › plan/FY2027_OPS.xlsx", "sam.lee@northwind.example"),
    ]
    assert items[1].date == when(25) and items[1].data == data["OPS"]
    items = list(iter_items(mail / "saved.zip"))
    assert [(i.kind, i.display) for i in items] == [
        ("workbook", "saved.zip › returns/FY2027_FIN.xlsx"),
        ("other", "saved.zip › returns/readme.txt"),
        ("other", "saved.zip › returns/~$FY2027_FIN.xlsx"),
    ]
    [fin, logo] = list(iter_items(mail / "finance.msg"))
    assert (fin.kind, fin.display, fin.sender, fin.date) == (
        "workbook",
        "finance.msg › FY2027_FIN.xlsx",
        "grace.okafor@northwind.example",
        when(26),
    )
    assert fin.data == data["FIN"] and fin.message_id == "<fin-1@northwind.example>"
    assert logo.kind == "other"
    [empty] = list(iter_items(mail / "empty.msg"))
    assert empty.kind == "no-attachment" and empty.subject == "Out of office"


def test_collect_writes_each_workbook_once_with_a_manifest(inbox):
    c, mail, _data = inbox
    out = c.root / "collected"
    result = CliRunner().invoke(cli, ["collect", str(mail), "-o", str(out), "--strategy", str(c.strategy_path)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "cascadebook-collect"
    files = manifest["files"]
    collected = [e for e in files if e["status"] == "collected"]
    assert sorted(e["department"] for e in collected) == ["FIN", "MKT", "OPS", "RND", "SAL", "SAL"]
    for e in collected:  # the manifest's hash is the file's, and the file is dated by its message
        body = (out / e["file"]).read_bytes()
        assert hashlib.sha256(body).hexdigest() == e["sha256"] and e["size"] == len(body)
        assert e["cycle"] == "FY2027" and e["sender"] and e["date"] and e["subject"]
        assert e["file"].startswith(e["date"][:10])
    written = sorted(p.name for p in out.iterdir() if p.suffix == ".xlsx")
    assert written == sorted(e["file"] for e in collected)
    assert "2027-01-26 1000 FY2027_FIN.xlsx" in written  # the newest of the identical copies is kept

    dups = {e["source"]: e for e in files if e["status"] == "duplicate"}
    assert set(dups) == {
        "mail/marketing.eml › Marketing goals FY27 - final.xlsx",
        "mail/saved.zip › returns/FY2027_FIN.xlsx",
    }
    assert dups["mail/saved.zip › returns/FY2027_FIN.xlsx"]["duplicate_of"] == "mail/finance.msg › FY2027_FIN.xlsx"
    mkt = next(e for e in collected if e["department"] == "MKT")
    assert mkt["source"] == "mail/inbox.mbox › message 4 › Marketing goals FY27 - final.xlsx"  # mailed later
    skipped = {e["source"] for e in files if e["status"] == "skipped"}
    assert {
        "mail/marketing.eml › brief.pdf",
        "mail/saved.zip › returns/readme.txt",
        "mail/finance.msg › logo.png",
    } <= skipped
    assert {e["source"] for e in files if e["status"] == "no-attachment"} == {
        "mail/inbox.mbox › message 2",
        "mail/empty.msg",
    }
    # the assistant's submission is a warning
    assert [f["code"] for f in manifest["findings"]] == ["sender-not-head"]
    assert "sam.lee@northwind.example" in manifest["findings"][0]["message"]
    assert manifest["findings"][0]["department"] == "OPS"
    assert "warning: OPS's workbook was sent by sam.lee@northwind.example" in result.output
    csv_head = (out / "manifest.csv").read_text().splitlines()[0]
    assert csv_head.startswith("source,status,file,sender,sender_name,date,subject,message_id,sha256")

    # collecting again is idempotent; reconcile reads the folder with the mail dates from the manifest
    again = collect([mail], out, strategy=c.strategy)
    assert sorted(p.name for p in out.iterdir() if p.suffix == ".xlsx") == written
    assert len(again.collected) == 6
    result = reconcile(c.strategy, [out], key=KEY, jobs=1)
    assert not [s for s in result.sources if s.status == "skipped"]  # the manifests are not workbooks
    sal = result.accepted()["SAL"]
    assert "Sales final" not in sal.file and sal.received == "2027-01-22T10:00:00Z"
    assert [r.get("title") for r in result.initiatives if r.department == "SAL"] == ["SAL Final"]


def test_reconcile_reads_mail_sources_and_the_mail_date_decides(inbox):
    c, mail, _data = inbox
    result = reconcile(
        c.strategy,
        [mail / "inbox.mbox", mail / "marketing.eml", mail / "Maildir", mail / "saved.zip", mail / "finance.msg"],
        key=KEY,
        jobs=1,
    )
    accepted = result.accepted()
    assert sorted(accepted) == ["FIN", "MKT", "OPS", "RND", "SAL"]
    # the final was saved before the draft but mailed after it: the mail date wins
    assert accepted["SAL"].file == "inbox.mbox › message 3 › FY2027_SAL.xlsx"
    assert accepted["SAL"].received == "2027-01-22T10:00:00Z"
    superseded = {s.file: s for s in result.sources if s.status == "superseded"}
    assert "inbox.mbox › message 1 › FY2027_SAL.xlsx" in superseded
    note = next(f for f in result.findings if f.code == "superseded-submission" and "message 1" in f.file)
    assert "2027-01-22T10:00:00Z vs 2027-01-12T10:00:00Z" in note.message
    assert accepted["OPS"].file == "Maildir (Maildir) › message 2 › ops.zip › plan/FY2027_OPS.xlsx"
    assert accepted["FIN"].file == "finance.msg › FY2027_FIN.xlsx"  # mailed after the zipped copy
    assert {s.file for s in result.sources} >= {
        "marketing.eml › Marketing goals FY27 - final.xlsx",
        "saved.zip › returns/FY2027_FIN.xlsx",
    }
    # a workbook mailed by someone other than the head is flagged by reconcile too
    assert [(f.department, f.file) for f in result.findings if f.code == "sender-not-head"] == SENDER_NOT_HEAD
    # the extracted workbooks live on in the cache, so the master's links to cells keep working
    assert all(Path_exists(s.path) for s in result.sources)
    # a folder holding mail files is read the same way
    folder = reconcile(c.strategy, [mail], key=KEY, jobs=1)
    assert folder.accepted()["SAL"].file == "mail/inbox.mbox › message 3 › FY2027_SAL.xlsx"


SENDER_NOT_HEAD = [("OPS", "Maildir (Maildir) › message 2 › ops.zip › plan/FY2027_OPS.xlsx")]


def Path_exists(path) -> bool:
    from pathlib import Path

    return Path(path).is_file()


def test_broken_sources_are_reported_not_fatal(cycle):
    bad = cycle.root / "bad"
    bad.mkdir()
    (bad / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    (bad / "broken.msg").write_bytes(b"not an OLE file at all" * 40)
    (bad / "broken.eml").write_bytes(b"\xff\xfe\x00garbage without headers")
    out = cycle.root / "out"
    result = collect([bad], out, strategy=cycle.strategy)
    statuses = {e.source: (e.status, e.note) for e in result.entries}
    assert statuses["bad/broken.zip"][0] == "unreadable" and "damaged zip" in statuses["bad/broken.zip"][1]
    assert statuses["bad/broken.msg"][0] == "unreadable"
    assert statuses["bad/broken.eml"][0] == "no-attachment"
    rec = reconcile(cycle.strategy, [bad], key=KEY, jobs=1)
    assert {s.file: s.status for s in rec.sources} == {"bad/broken.zip": "skipped", "bad/broken.msg": "skipped"}
    runner = CliRunner().invoke(cli, ["collect", str(bad), "-o", str(bad)])
    assert runner.exit_code == 1 and "is the output folder" in runner.output
