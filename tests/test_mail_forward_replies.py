"""A reply that quotes a forwarded message is the replier's, not the quoted author's.

Reviewer's reproductions: Grace Okafor (head of Finance) answers a forwarded request with her workbook
attached. Her reply quotes the forward ("> ---------- Forwarded message ---------", Outlook's "____"
block, Apple's "Begin forwarded message:", German "Von:"), and the subject keeps the forward's prefix
after the reply's ("Re: Fwd:", "RE: FW:", "AW: WG:"). The workbook is credited to Grace (the envelope
sender), with no ``forwarded_by``, no false sender-not-head, and ``feedback`` writes its draft to her.
A real forward ("Fwd: ...", "Fwd: Re: ...") is still credited to the author it names.
"""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy

import pytest

from cascadebook import reconcile
from cascadebook.inbox.collect import collect
from cascadebook.inbox.messages import iter_items
from cascadebook.mail.compose import mail_settings
from cascadebook.mail.feedback import feedback
from mail_fixtures import KEY, UTC, XLSX, cycle, initiative, kpi, message  # noqa: F401 - fixture

GRACE = "Grace Okafor <grace.okafor@northwind.example>"  # the head of Finance in the sample strategy
GRACE_ADDR = "grace.okafor@northwind.example"
CEO = "Chief Executive <ceo@northwind.example>"
DANA = "Dana <strategy@northwind.example>"
# One initiative under an objective that does not exist: something for ``feedback`` to send back.
TO_FIX = {"initiatives": [initiative("CO9", "FIN Close faster", 10, 5)], "kpis": [kpi("FIN-I01", "Days to close")]}

REPLIES = {
    # Gmail: Grace answers Dana's "Fwd:" of the CEO's message; the forward is quoted with ">".
    "gmail re fwd": (
        "Re: Fwd: FY2027 goal plan",
        (
            "Here is Finance's plan.\n\n"
            f"On Tue, Jan 19, 2027 at 10:02 AM {DANA} wrote:\n"
            "> Please fill this in.\n>\n"
            "> ---------- Forwarded message ---------\n"
            f"> From: {CEO}\n> Date: Mon, Jan 18, 2027 at 9:12 AM\n> Subject: FY2027 goal plan\n"
            "> To: <strategy@northwind.example>\n"
        ),
    ),
    # Same, without the "On ... wrote:" line: only the quote marks say the block is quoted.
    "quoted marker only": (
        "Re: Fwd: FY2027 goal plan",
        (
            "Here is Finance's plan.\n\n"
            "> ---------- Forwarded message ---------\n"
            f"> From: {CEO}\n> Subject: FY2027 goal plan\n"
        ),
    ),
    # Outlook: "RE: FW:", the reply's "____" block names Dana, the forward's names the CEO.
    "outlook RE FW": (
        "RE: FW: FY2027 goal plan",
        (
            "Attached.\n\n________________________________\n"
            f"From: {DANA}\nSent: Tuesday, January 19, 2027 10:02 AM\nTo: {GRACE}\n"
            "Subject: FW: FY2027 goal plan\n\nPlease fill this in.\n\n"
            "________________________________\n"
            f"From: {CEO}\nSent: Monday, January 18, 2027 9:12 AM\nSubject: FY2027 goal plan\n"
        ),
    ),
    # Apple Mail: a plain "Re:" quoting a "Begin forwarded message:" block.
    "apple re": (
        "Re: FY2027 goal plan",
        (
            "Here it is.\n\n"
            f"On 19 Jan 2027, at 10:02, {DANA} wrote:\n\n"
            "> FYI\n>\n> Begin forwarded message:\n>\n"
            f">> From: {CEO}\n>> Subject: FY2027 goal plan\n"
        ),
    ),
    # German Outlook: "AW: WG:", "Von:" lines.
    "outlook AW WG": (
        "AW: WG: FY2027 Zielplan",
        (
            "Anbei unser Plan.\n\n________________________________\n"
            f"Von: {DANA}\nGesendet: Dienstag, 19. Januar 2027 10:02\nAn: {GRACE}\n"
            "Betreff: WG: FY2027 Zielplan\n\nBitte ausfüllen.\n\n"
            "________________________________\n"
            f"Von: {CEO}\nGesendet: Montag, 18. Januar 2027 09:12\nBetreff: FY2027 Zielplan\n"
        ),
    ),
}


def _reply_eml(cycle, subject: str, body: str, rows=None):
    data = cycle.fill("FIN", rows=rows).read_bytes() if rows else cycle.fill("FIN").read_bytes()
    msg = message(GRACE, subject, dt.datetime(2027, 1, 20, 9, tzinfo=UTC), [("FY2027_FIN.xlsx", data, XLSX)], body=body)
    mail = cycle.root / "mail"
    mail.mkdir(exist_ok=True)
    eml = mail / "reply.eml"
    eml.write_bytes(msg.as_bytes(policy=policy.SMTP))
    return eml, data


@pytest.mark.parametrize("case", list(REPLIES))
def test_a_reply_quoting_a_forward_is_credited_to_the_replier(cycle, case):
    subject, body = REPLIES[case]
    eml, data = _reply_eml(cycle, subject, body)

    [item] = [i for i in iter_items(eml) if i.kind == "workbook"]
    assert (item.sender, item.sender_name, item.forwarded_by) == (GRACE_ADDR, "Grace Okafor", "")
    assert item.data == data

    result = reconcile(cycle.strategy, [eml], key=KEY, jobs=1)
    assert "FIN" in result.accepted()
    assert not [f for f in result.findings if f.code == "sender-not-head"]

    collected = collect([eml.parent], cycle.root / "collected", strategy=cycle.strategy)
    [entry] = collected.collected
    assert (entry.department, entry.sender, entry.forwarded_by) == ("FIN", GRACE_ADDR, "")
    assert not collected.findings  # no "sent by ceo@..., not by the department head"


@pytest.mark.parametrize("case", list(REPLIES))
def test_feedback_on_a_reply_quoting_a_forward_goes_to_the_replier(cycle, tmp_path, case):
    subject, body = REPLIES[case]
    eml, _ = _reply_eml(cycle, subject, body, rows=TO_FIX)
    settings = mail_settings(cycle.strategy, cycle.strategy_path)
    [item] = feedback(cycle.strategy, [eml], tmp_path / "fb", settings, key=KEY)
    draft = message_from_bytes(item.eml.read_bytes(), policy=policy.default)
    assert draft["To"].addresses[0].addr_spec == GRACE_ADDR
    assert "ceo@northwind.example" not in str(draft["To"]) + str(draft["Cc"] or "")
    assert "strategy@northwind.example" not in str(draft["To"])


@pytest.mark.parametrize(
    "subject, body",
    [
        # a forward whose only "Forwarded message" block is quoted (">") belongs to a reply it carries
        ("Fwd: FY2027 goal plan", "See below.\n\n> ---------- Forwarded message ---------\n> From: " + CEO + "\n"),
        # a forward whose first separator is a reply's "On ... wrote:" line
        (
            "Fwd: FY2027 goal plan",
            "See below.\n\nOn Mon, Jan 18, 2027 at 9:12 AM " + CEO + " wrote:\n"
            "> ---------- Forwarded message ---------\n> From: " + CEO + "\n",
        ),
        # no marker: a From line deep in quoted text is not searched for
        ("FW: FY2027 goal plan", "Attached.\n\n> earlier text\n> From: " + CEO + "\n"),
    ],
)
def test_a_forward_subject_over_only_quoted_blocks_keeps_the_envelope_sender(cycle, subject, body):
    eml, _ = _reply_eml(cycle, subject, body)
    [item] = [i for i in iter_items(eml) if i.kind == "workbook"]
    assert (item.sender, item.forwarded_by) == (GRACE_ADDR, "")


@pytest.mark.parametrize("subject", ["Fwd: FY2027 goal plan", "Fwd: Re: FY2027 goal plan", "WG: AW: FY2027 Zielplan"])
def test_a_real_inline_forward_is_still_credited_to_the_author_it_names(cycle, subject):
    """Dana forwards Grace's message (her reply, even): the first prefix is a forward's, the block is unquoted."""
    data = cycle.fill("FIN").read_bytes()
    body = (
        "FYI\n\n---------- Forwarded message ---------\n"
        f"From: {GRACE}\nDate: Wed, Jan 20, 2027 at 9:00 AM\nSubject: FY2027 goal plan\n\n"
        "Here is Finance's plan.\n\nOn Tue, Jan 19, 2027 at 10:02 AM Dana wrote:\n> Please fill this in.\n"
    )
    msg = message(DANA, subject, dt.datetime(2027, 1, 21, 9, tzinfo=UTC), [("FY2027_FIN.xlsx", data, XLSX)], body=body)
    eml = cycle.root / "fwd.eml"
    eml.write_bytes(msg.as_bytes(policy=policy.SMTP))
    [item] = [i for i in iter_items(eml) if i.kind == "workbook"]
    assert (item.sender, item.forwarded_by) == (GRACE_ADDR, "strategy@northwind.example")
    result = reconcile(cycle.strategy, [eml], key=KEY, jobs=1)
    assert not [f for f in result.findings if f.code == "sender-not-head"]
