"""Where a workbook came from (the message: sender, date) travels with it, not in a table on the side.

Reconcile, status and feedback read the origin from each ``Return``: it survives a process pool, and
two reconciles in one process do not see each other's mail.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import mailbox
from email import message_from_bytes, policy

import pytest

from cascadebook import reconcile
from cascadebook.inbox.collect import collect
from cascadebook.mail.compose import mail_settings
from cascadebook.mail.feedback import feedback
from cascadebook.mail.status import department_status
from mail_fixtures import KEY, UTC, XLSX, cycle, initiative, kpi, message  # noqa: F401 - fixture

HEADS = {
    "MKT": "Priya Raman <priya.raman@northwind.example>",
    "FIN": "Grace Okafor <grace.okafor@northwind.example>",
    "SAL": "Marcus Bell <marcus.bell@northwind.example>",
    "RND": "Tomasz Wojcik <tomasz.wojcik@northwind.example>",
}
SAM = "Sam Lee <sam.lee@northwind.example>"  # Operations' assistant, not its head (Elena Novak)
OPS_ROWS = {  # an objective that does not exist: something for feedback to mark
    "initiatives": [initiative("CO9", "Quality control", 1, 2)],
    "kpis": [kpi("OPS-I01", "Defects")],
}


def mailed(day: int) -> dt.datetime:
    return dt.datetime(2027, 1, day, 10, tzinfo=UTC)


def write_mbox(path, messages) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    box = mailbox.mbox(str(path))
    for msg in messages:
        box.add(msg.as_bytes(policy=policy.SMTP))
    box.flush()
    box.close()


def plans(books: dict[str, bytes], senders: dict[str, str], day: int = 20) -> list:
    """One message per department, in code order, mailed a day apart from ``day`` on."""
    return [
        message(senders[code], f"{code} plan", mailed(day + i), [(f"FY2027_{code}.xlsx", books[code], XLSX)])
        for i, code in enumerate(sorted(books))
    ]


@pytest.fixture
def inbox(cycle):
    """Five departments' workbooks in one mbox, each saved on 2 January and mailed later; OPS's by Sam."""
    saved = dt.datetime(2027, 1, 2, 9)
    books = {code: cycle.fill(code, saved_at=saved).read_bytes() for code in HEADS}
    books["OPS"] = cycle.fill("OPS", rows=OPS_ROWS, saved_at=saved).read_bytes()
    mbox = cycle.root / "mail" / "inbox.mbox"
    write_mbox(mbox, plans(books, {**HEADS, "OPS": SAM}))
    for path in cycle.returned.iterdir():
        path.unlink()  # they arrived by mail only
    return cycle, mbox, books


def received(result) -> dict[str, str]:
    return {code: ret.received for code, ret in result.accepted().items()}


def wrong_senders(result) -> list[tuple[str, str]]:
    return [(f.department, f.severity.value) for f in result.findings if f.code == "sender-not-head"]


EXPECTED_RECEIVED = {  # sorted codes, mailed on the 20th, 21st, ...: FIN MKT OPS RND SAL
    "FIN": "2027-01-20T10:00:00Z",
    "MKT": "2027-01-21T10:00:00Z",
    "OPS": "2027-01-22T10:00:00Z",
    "RND": "2027-01-23T10:00:00Z",
    "SAL": "2027-01-24T10:00:00Z",
}


def test_a_process_pool_keeps_the_mail_date_and_the_sender_check(inbox):
    c, mbox, _ = inbox
    serial = reconcile(c.strategy, [mbox], key=KEY, jobs=1)
    pooled = reconcile(c.strategy, [mbox], key=KEY, jobs=2)  # five workbooks: read in worker processes
    for result in (serial, pooled):
        assert received(result) == EXPECTED_RECEIVED
        assert all(ret.modified.startswith("2027-01-02") for ret in result.accepted().values())  # not used
        assert wrong_senders(result) == [("OPS", "warning")]
        ops = result.accepted()["OPS"].origin
        assert (ops.sender, ops.subject) == ("sam.lee@northwind.example", "OPS plan")
        assert ops.source == "inbox.mbox › message 3 › FY2027_OPS.xlsx"
    assert [(s.file, s.origin) for s in pooled.sources] == [(s.file, s.origin) for s in serial.sources]

    # a folder written by collect: the origins come from its manifest, through the pool as well
    collect([mbox], c.root / "collected", strategy=c.strategy)
    folder = reconcile(c.strategy, [c.root / "collected"], key=KEY, jobs=2)
    assert received(folder) == EXPECTED_RECEIVED
    assert wrong_senders(folder) == [("OPS", "warning")]
    assert folder.accepted()["OPS"].origin.source == "inbox.mbox › message 3 › FY2027_OPS.xlsx"


def test_two_reconciles_in_one_process_each_keep_their_own_origins(inbox):
    c, mbox, books = inbox
    # the same mbox under another strategy, in which Sam heads Operations: no sender warning there
    ops = next(d for d in c.strategy.departments if d.code == "OPS")
    sam_heads = dataclasses.replace(
        c.strategy,
        departments=tuple(
            dataclasses.replace(d, head="Sam Lee", email="sam.lee@northwind.example") if d is ops else d
            for d in c.strategy.departments
        ),
    )
    first = reconcile(c.strategy, [mbox], key=KEY, jobs=1)
    second = reconcile(sam_heads, [mbox], key=KEY, jobs=1)
    assert wrong_senders(first) == [("OPS", "warning")] and wrong_senders(second) == []

    # a later export of the mailbox, under the same name: the same bytes in the same places (so the
    # same extracted files and display names), but OPS's plan sent by Elena herself, a week later
    later = c.root / "february" / "inbox.mbox"
    write_mbox(later, plans(books, {**HEADS, "OPS": "Elena Novak <elena.novak@northwind.example>"}, day=27))
    third = reconcile(c.strategy, [later], key=KEY, jobs=1)
    assert third.accepted()["OPS"].path == first.accepted()["OPS"].path  # the same cached attachment
    assert third.accepted()["OPS"].file == first.accepted()["OPS"].file  # the same display name
    assert (third.accepted()["OPS"].origin.sender, third.accepted()["OPS"].received) == (
        "elena.novak@northwind.example",
        "2027-01-29T10:00:00Z",
    )
    assert wrong_senders(third) == []
    # the first result is untouched by the two after it
    assert first.accepted()["OPS"].origin.sender == "sam.lee@northwind.example"
    assert first.accepted()["OPS"].origin.date == "2027-01-22T10:00:00Z"
    assert received(first) == EXPECTED_RECEIVED


def test_status_and_feedback_credit_the_sender_carried_by_the_return(inbox, tmp_path):
    c, mbox, _ = inbox
    report = department_status(c.strategy, [mbox], key=KEY, today=dt.date(2027, 1, 25), jobs=2)
    rows = {r.code: r for r in report.departments}
    accepted = report.result.accepted()
    for code, ret in accepted.items():
        assert (rows[code].sender, rows[code].returned_at) == (ret.origin.sender, ret.origin.date)
    assert (rows["OPS"].sender, rows["OPS"].returned_at) == ("sam.lee@northwind.example", "2027-01-22T10:00:00Z")
    assert rows["OPS"].state == "returned with errors" and rows["HR"].state == "waiting"

    settings = mail_settings(c.strategy, c.strategy_path)
    [item] = feedback(c.strategy, [mbox], tmp_path / "fb", settings, key=KEY, jobs=2)
    assert (item.department, item.to) == ("OPS", "sam.lee@northwind.example")
    reply = message_from_bytes(item.eml.read_bytes(), policy=policy.default)
    assert reply["To"] == "sam.lee@northwind.example"
    assert "Elena Novak <elena.novak@northwind.example>" in reply["Cc"]  # the head hears of it too
    assert "Dear Sam Lee," in reply.get_body(("plain",)).get_content()
