"""Newest wins between several returns of one department: the order, who is superseded, and what is said.

Fast: returns are built in the test (no workbook), as the reader leaves them after identity.
"""

from __future__ import annotations

import pytest

from cascadebook.consolidate.newest import newer_first, newest_wins
from cascadebook.intake.reader import Return
from cascadebook.model import Metadata

SIGNED, PROPERTIES, CONTENT = "metadata sheet", "document properties", "content"


def ret(file: str, department: str = "MKT", *, modified: str = "", received: str = "", by: str = SIGNED) -> Return:
    meta = Metadata("2", "FY2027", department, "department", "1.0", "f" * 16, "2027-01-01T00:00:00Z")
    return Return(
        path=f"/in/{file}",
        file=file,
        metadata=meta,
        modified=modified,
        received=received,
        identified_by=by,
        status="accepted",
    )


def by_department(returns: list[Return]) -> dict[str, Return]:
    return newest_wins(returns, key=lambda r: r.department)


# (returns as (file, modified, received, identified_by), the file that wins, why)
WINNERS = [
    # later last-saved time wins
    ([("a.xlsx", "2027-01-05", "", SIGNED), ("b.xlsx", "2027-01-09", "", SIGNED)], "b.xlsx"),
    ([("b.xlsx", "2027-01-09", "", SIGNED), ("a.xlsx", "2027-01-05", "", SIGNED)], "b.xlsx"),
    # the e-mail's date is preferred over the saved time: a received 01-20 (saved 01-01) beats b saved 01-10
    ([("a.xlsx", "2027-01-01", "2027-01-20", SIGNED), ("b.xlsx", "2027-01-10", "", SIGNED)], "a.xlsx"),
    # ... and a's e-mail date 01-03 is older than b's saved 01-10, whatever a's saved time 01-30 says
    ([("a.xlsx", "2027-01-30", "2027-01-03", SIGNED), ("b.xlsx", "2027-01-10", "", SIGNED)], "b.xlsx"),
    # the same time: the later file name wins, so every run decides the same way
    ([("b.xlsx", "2027-01-05", "", SIGNED), ("a.xlsx", "2027-01-05", "", SIGNED)], "b.xlsx"),
    ([("a.xlsx", "2027-01-05", "", SIGNED), ("b.xlsx", "2027-01-05", "", SIGNED)], "b.xlsx"),
    # a signed return beats one known only by content, even when the content one is newer
    ([("a.xlsx", "2027-01-01", "", SIGNED), ("z.xlsx", "2027-12-31", "2027-12-31", CONTENT)], "a.xlsx"),
    ([("z.xlsx", "2027-12-31", "", CONTENT), ("a.xlsx", "2027-01-01", "", PROPERTIES)], "a.xlsx"),
    # both signed (either way of signing counts): the date decides
    ([("a.xlsx", "2027-01-01", "", SIGNED), ("b.xlsx", "2027-02-01", "", PROPERTIES)], "b.xlsx"),
    # both by content: the date decides
    ([("a.xlsx", "2027-03-01", "", CONTENT), ("b.xlsx", "2027-02-01", "", CONTENT)], "a.xlsx"),
    # three: the newest wins over both
    (
        [
            ("a.xlsx", "2027-01-02", "", SIGNED),
            ("c.xlsx", "2027-01-03", "", SIGNED),
            ("b.xlsx", "2027-01-01", "", SIGNED),
        ],
        "c.xlsx",
    ),
]


@pytest.mark.parametrize(("given", "winner"), WINNERS)
def test_the_newest_return_wins(given, winner):
    returns = [ret(f, modified=m, received=r, by=b) for f, m, r, b in given]
    kept = by_department(returns)
    assert list(kept) == ["MKT"] and kept["MKT"].file == winner
    for r in returns:
        if r.file == winner:
            assert (r.status, r.reason, r.findings) == ("accepted", "", [])  # the winner is left as it was
        else:
            # every other one is superseded by the winner (not by the one just newer than it)
            assert (r.status, r.reason) == ("superseded", f"superseded by {winner}")
            assert [f.code for f in r.findings] == ["superseded-submission"]
            assert (r.findings[0].file, r.findings[0].department) == (r.file, "MKT")


def test_the_sort_key_puts_the_newest_last():
    # (signed?, received or modified, file): a content-identified return sorts before every signed one
    assert newer_first(ret("x.xlsx", modified="2027-01-05")) == (True, "2027-01-05", "x.xlsx")
    assert newer_first(ret("x.xlsx", modified="2027-01-05", received="2027-01-07")) == (True, "2027-01-07", "x.xlsx")
    assert newer_first(ret("x.xlsx", modified="2027-01-05", by=CONTENT)) == (False, "2027-01-05", "x.xlsx")


def test_each_key_keeps_its_own_newest():
    mkt_old, mkt_new = ret("m1.xlsx", modified="2027-01-01"), ret("m2.xlsx", modified="2027-01-02")
    fin = ret("f1.xlsx", "FIN", modified="2026-12-01")  # older than both MKT files, but alone for FIN
    kept = by_department([mkt_new, fin, mkt_old])
    assert kept == {"MKT": mkt_new, "FIN": fin}
    assert fin.status == "accepted" and fin.findings == []
    assert mkt_old.status == "superseded"


def test_no_returns_keep_nothing():
    assert by_department([]) == {}


def test_what_is_said_of_a_superseded_plan():
    old = ret("MKT v1.xlsx", modified="2027-01-05T10:00:00Z")
    new = ret("MKT v2.xlsx", modified="2027-01-06T09:00:00Z", received="2027-01-07T08:00:00Z")
    by_department([old, new])
    # the times named are the ones compared: the winner's e-mail date, the other's saved time
    assert [f.message for f in old.findings] == [
        "MKT v2.xlsx is a newer submission from MKT (2027-01-07T08:00:00Z vs 2027-01-05T10:00:00Z)"
    ]


def test_what_is_said_of_a_superseded_checkin_names_it():
    old = ret("q2 early.xlsx", modified="2027-07-01", received="2027-07-02")
    new = ret("q2 late.xlsx", modified="2027-07-09")
    newest_wins([old, new], key=lambda r: r.department, what=lambda r: f"Q2 check-in of {r.file}")
    # ``what`` is asked of the one kept
    assert [f.message for f in old.findings] == [
        "q2 late.xlsx is a newer Q2 check-in of q2 late.xlsx from MKT (2027-07-09 vs 2027-07-02)"
    ]


@pytest.mark.parametrize(
    ("what", "noun"),
    [(None, "return"), (lambda r: "Q1 check-in", "Q1 check-in")],
)
def test_what_is_said_of_a_content_return_that_a_signed_one_beats(what, noun):
    signed = ret("signed.xlsx", modified="2027-01-01")
    content = ret("content.xlsx", modified="2027-06-01", by=CONTENT)
    kept = newest_wins([content, signed], key=lambda r: r.department, what=what)
    assert kept == {"MKT": signed}
    assert [(f.code, f.message, f.file, f.department) for f in content.findings] == [
        (
            "superseded-submission",
            (
                f"signed.xlsx is MKT's signed {noun}; this workbook was identified only by its visible content, "
                "so it does not replace it, whatever their dates"
            ),
            "content.xlsx",
            "MKT",
        )
    ]


def test_an_older_content_return_beaten_by_a_signed_one_is_told_the_same():
    # the signed one is also newer, but the reason it wins is that it is signed
    content = ret("content.xlsx", modified="2027-01-01", by=CONTENT)
    by_department([content, ret("signed.xlsx", modified="2027-06-01")])
    assert "identified only by its visible content" in content.findings[0].message


def test_a_content_return_beaten_by_a_newer_content_one_is_told_it_is_older():
    old = ret("a.xlsx", modified="2027-01-01", by=CONTENT)
    by_department([old, ret("b.xlsx", modified="2027-01-02", by=CONTENT)])
    assert old.findings[0].message == "b.xlsx is a newer submission from MKT (2027-01-02 vs 2027-01-01)"


def test_a_signed_return_beaten_by_a_newer_signed_one_is_told_it_is_older():
    old = ret("a.xlsx", modified="2027-01-01", by=PROPERTIES)
    by_department([old, ret("b.xlsx", modified="2027-01-02")])
    assert old.findings[0].message == "b.xlsx is a newer submission from MKT (2027-01-02 vs 2027-01-01)"
