"""cascadebook status (who returned, who is late, reminders) and feedback (annotated copy, reply, fixed copy reconciles)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from email import message_from_bytes, policy

import openpyxl
import pytest
from click.testing import CliRunner

from cascadebook import reconcile
from cascadebook.cli import cli
from cascadebook.kinds import META_SHEET
from cascadebook.mail.compose import mail_settings
from cascadebook.mail.feedback import MARK_FILL, TO_FIX, annotate_workbook, feedback
from cascadebook.mail.status import department_status
from cascadebook.template.department import META_PROPERTY_PREFIX
from fill import fill_workbook
from mail_fixtures import KEY, UTC, XLSX, cycle, initiative, kpi, message  # noqa: F401 - fixture

BROKEN_OPS = {
    "initiatives": [
        initiative("CO5", "Optimise logistics", 10, 8),
        initiative("CO9", "Quality control", 1, 2, owner=None),  # unknown objective, no owner
        initiative("CO4", "Automate orders", 1, "15 percent"),
    ],  # a target that is not a number
    "kpis": [
        kpi("OPS-I01", "On-time shipments", baseline="forty"),  # not a number
        kpi("OPS-I02", "Defects"),
        kpi("OPS-I03", "Orders per FTE"),
        kpi("OPS-I07", "Stray KPI"),
    ],  # an initiative that does not exist
}
FIXES = {
    "Initiatives!B6": "CO1",
    "Initiatives!J6": "Hugo Martin",
    "Initiatives!H7": 15,
    "KPIs!H5": 40,
    "KPIs!B8": "OPS-I01",
}


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def returns(cycle):
    """MKT and FIN clean and on time, OPS with mistakes mailed by its head, SAL late, RND and HR missing."""
    c = cycle
    c.fill("MKT", saved_at=dt.datetime(2027, 1, 20, 9))
    c.fill("FIN", saved_at=dt.datetime(2027, 1, 21, 9))
    c.fill("SAL", saved_at=dt.datetime(2027, 2, 3, 9))  # after the deadline (29 January)
    ops = c.fill("OPS", "ops plan.xlsx", rows=BROKEN_OPS, saved_at=dt.datetime(2026, 1, 2, 9))
    mail = c.root / "mail"
    mail.mkdir()
    msg = message(
        "Elena Novak <elena.novak@northwind.example>",
        "Operations plan",
        dt.datetime(2027, 1, 22, 8, tzinfo=UTC),
        [("ops plan.xlsx", ops.read_bytes(), XLSX)],
    )
    msg.replace_header("Message-ID", "<ops-1@northwind.example>")
    (mail / "ops.eml").write_bytes(msg.as_bytes(policy=policy.SMTP))
    ops.unlink()  # it arrived by mail only
    return c, [c.returned, mail / "ops.eml"]


def test_status_says_who_returned_who_is_late_and_who_has_errors(returns):
    c, inputs = returns
    report = department_status(c.strategy, inputs, key=KEY, today=dt.date(2027, 2, 5))
    rows = {r.code: r for r in report.departments}
    assert {k: r.state for k, r in rows.items()} == {
        "FIN": "returned",
        "MKT": "returned",
        "SAL": "returned",
        "OPS": "returned with errors",
        "RND": "late",
        "HR": "late",
    }
    assert rows["SAL"].late and not rows["MKT"].late
    assert rows["OPS"].errors == 5 and rows["OPS"].sender == "elena.novak@northwind.example"
    assert rows["OPS"].returned_at == "2027-01-22T08:00:00Z" and rows["OPS"].file == "ops.eml › ops plan.xlsx"
    assert [r.code for r in report.missing] == ["HR", "RND"]
    before = department_status(c.strategy, inputs, key=KEY, today=dt.date(2027, 1, 25))
    assert {r.code: r.state for r in before.departments}["RND"] == "waiting"

    result = run("status", c.strategy_path, *inputs, "--today", "2027-02-05", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["counts"] == {"returned": 3, "returned with errors": 1, "waiting": 0, "late": 2, "rejected": 0}
    assert data["deadline"] == "2027-01-29"
    ops = next(d for d in data["departments"] if d["code"] == "OPS")
    assert ops["errors"] == 5 and {f["code"] for f in ops["findings"]} >= {"unknown-objective", "wrong-type"}

    result = run("status", c.strategy_path, *inputs, "--today", "2027-02-05")
    assert result.exit_code == 0, result.output
    assert "returned with errors" in result.output and "late" in result.output
    assert "ops.eml › ops plan.xlsx" in result.output


def test_reminders_go_to_the_missing_with_their_template(returns):
    c, inputs = returns
    out = c.root / "reminders"
    result = run(
        "status",
        c.strategy_path,
        *inputs,
        "--today",
        "2027-02-05",
        "--remind",
        out,
        "--outbox",
        c.outbox,
        "--cc",
        "coo@northwind.example",
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["FY2027_HR reminder.eml", "FY2027_RND reminder.eml"]
    msg = message_from_bytes((out / "FY2027_RND reminder.eml").read_bytes(), policy=policy.default)
    assert msg["To"] == "Tomasz Wojcik <tomasz.wojcik@northwind.example>" and msg["Cc"] == "coo@northwind.example"
    assert msg["X-Unsent"] == "1"
    assert msg["Subject"].strip() == "Reminder: FY2027 goal plan for Research & Development, due Friday 29 January 2027"
    body = msg.get_body(("plain",)).get_content()
    assert "The deadline was Friday 29 January 2027, 7 days ago." in body
    assert "The template is attached again (FY2027_RND.xlsx)." in body
    [part] = list(msg.iter_attachments())
    assert part.get_content_type() == XLSX and part.get_content() == c.templates["RND"].read_bytes()


def test_feedback_marks_the_copy_replies_to_the_sender_and_the_fixed_copy_reconciles_clean(returns, tmp_path):
    c, inputs = returns
    originals = {p: sha(p) for p in c.returned.iterdir()}
    original_mail = sha(inputs[1])
    out = tmp_path / "feedback"
    result = run("feedback", c.strategy_path, *inputs, "-o", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["FY2027_OPS - to fix.eml", "FY2027_OPS - to fix.xlsx"]
    assert {p: sha(p) for p in c.returned.iterdir()} == originals and sha(inputs[1]) == original_mail

    copy = out / "FY2027_OPS - to fix.xlsx"
    book = openpyxl.load_workbook(copy)
    assert book.sheetnames[0] == TO_FIX and book.active.title == TO_FIX
    assert book[META_SHEET].sheet_state == "veryHidden"  # identity kept as generated
    props = {p.name: p.value for p in book.custom_doc_props.props}
    assert props[META_PROPERTY_PREFIX + "department"] == "OPS"
    before = reconcile(c.strategy, inputs, key=KEY, jobs=1)
    expected = [f for f in before.findings if f.department == "OPS" and f.severity.value != "info"]
    marked = {(f.sheet, f.cell) for f in expected}
    assert ("Initiatives", "B6") in marked and ("KPIs", "H5") in marked
    for sheet, ref in marked:
        cell = book[sheet][ref]
        assert cell.comment is not None and cell.comment.author == "cascadebook"
        assert cell.fill.fgColor.rgb == MARK_FILL
    assert "should be a number, found 'forty'" in book["KPIs"]["H5"].comment.text
    fix_rows = [r for r in book[TO_FIX].iter_rows(min_row=5, max_col=6, values_only=True) if r[0]]
    assert len(fix_rows) == len(expected)
    assert ("Initiatives", "B6") in {(r[2], r[3]) for r in fix_rows}
    link = next(c for c in book[TO_FIX]["D"] if c.value == "H5" and c.hyperlink is not None)
    assert link.hyperlink.location == "'KPIs'!H5"

    reply = message_from_bytes((out / "FY2027_OPS - to fix.eml").read_bytes(), policy=policy.default)
    assert reply["To"] == "elena.novak@northwind.example"  # whoever sent it
    assert reply["In-Reply-To"] == "<ops-1@northwind.example>" and reply["X-Unsent"] == "1"
    body = reply.get_body(("plain",)).get_content()
    assert "Dear Elena Novak," in body and "KPIs!H5 (error): Baseline should be a number, found 'forty'" in body
    [part] = list(reply.iter_attachments())
    assert part.get_content_type() == XLSX and part.get_content() == copy.read_bytes()

    # the department fixes the cells, as a person would, and sends the copy back
    fixed = tmp_path / "back" / "FY2027_OPS - to fix.xlsx"
    fill_workbook(copy, fixed, cells=FIXES, saved_at=dt.datetime(2027, 1, 27, 9))
    after = reconcile(c.strategy, [*inputs, fixed], key=KEY, jobs=1)
    assert after.accepted()["OPS"].file == "FY2027_OPS - to fix.xlsx"  # it wins as OPS's newest submission
    left = [
        f
        for f in after.findings
        if f.department == "OPS" and f.file == "FY2027_OPS - to fix.xlsx" and f.severity.value != "info"
    ]
    assert left == [], left
    assert not any(
        f.severity.value == "error"
        for f in after.findings
        if f.department == "OPS" and f.file == "FY2027_OPS - to fix.xlsx"
    )
    titles = [r.get("title") for r in after.initiatives if r.department == "OPS"]
    assert titles == ["Optimise logistics", "Quality control", "Automate orders"]


def test_feedback_again_on_a_partly_fixed_copy_replaces_the_old_marks(returns, tmp_path):
    c, inputs = returns
    settings = mail_settings(c.strategy, c.strategy_path)
    [item] = feedback(c.strategy, inputs, tmp_path / "round1", settings, key=KEY)
    original_fill = openpyxl.load_workbook(c.templates["OPS"])["KPIs"]["H5"].fill.fgColor.rgb
    partly = tmp_path / "partly.xlsx"
    fill_workbook(item.workbook, partly, cells={"KPIs!H5": 40}, saved_at=dt.datetime(2027, 1, 27, 9))
    [again] = feedback(c.strategy, [partly], tmp_path / "round2", settings, key=KEY)
    assert len(again.findings) == len(item.findings) - 1
    book = openpyxl.load_workbook(again.workbook)
    assert book.sheetnames.count(TO_FIX) == 1
    assert book["KPIs"]["H5"].comment is None and book["KPIs"]["H5"].fill.fgColor.rgb == original_fill
    assert book["Initiatives"]["B6"].fill.fgColor.rgb == MARK_FILL
    assert again.to == "elena.novak@northwind.example"  # a plain file: the head


def test_nothing_to_fix_writes_nothing_and_the_original_is_never_overwritten(cycle, tmp_path):
    path = cycle.fill("FIN")
    result = run("feedback", cycle.strategy_path, path, "-o", tmp_path / "fb")
    assert result.exit_code == 0 and "nothing to fix" in result.output
    from cascadebook.mail import MailError

    with pytest.raises(MailError, match="must not overwrite"):
        annotate_workbook(path, path, [])


def test_feedback_to_someone_other_than_the_head_copies_the_head(cycle, tmp_path):
    ops = cycle.fill("OPS", rows=BROKEN_OPS)
    msg = message(
        "Sam Lee <sam.lee@northwind.example>",
        "OPS plan for Elena",
        dt.datetime(2027, 1, 22, tzinfo=UTC),
        [("FY2027_OPS.xlsx", ops.read_bytes(), XLSX)],
    )
    eml = tmp_path / "from-sam.eml"
    eml.write_bytes(msg.as_bytes(policy=policy.SMTP))
    settings = mail_settings(cycle.strategy, cycle.strategy_path, cc=["pmo@northwind.example"])
    [item] = feedback(cycle.strategy, [eml], tmp_path / "fb", settings, key=KEY)
    reply = message_from_bytes(item.eml.read_bytes(), policy=policy.default)
    assert reply["To"] == "sam.lee@northwind.example"
    assert reply["Cc"] == "pmo@northwind.example, Elena Novak <elena.novak@northwind.example>"
    assert "Dear Sam Lee," in reply.get_body(("plain",)).get_content()
