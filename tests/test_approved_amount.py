"""The one rule for what a decision approves (spec/review.approved_amount), shared by the master's live
formulas, `cascadebook decisions` and the next round's templates: a table of cases worked by hand."""

from __future__ import annotations

import pytest

from cascadebook.spec.review import approved_amount
from cascadebook.spec.roles import APPROVE, APPROVE_CHANGED, REJECT, REVISE


@pytest.mark.parametrize(
    ("meaning", "typed", "requested", "approved"),
    [
        (APPROVE, None, 600000, 600000.0),  # blank: as requested
        (APPROVE, "", 600000, 600000.0),
        (APPROVE, 500000, 600000, 500000.0),  # typed: the typed amount
        (APPROVE, 0, 600000, 0.0),  # typed zero is zero, not the request
        (APPROVE, None, None, None),  # nothing requested, nothing typed
        (APPROVE, None, "n/a", None),  # a request that is not a number approves nothing
        (APPROVE, "600k", 600000, 0.0),  # text approves 0, as ISNUMBER takes it in the formulas
        (APPROVE, "50000", 600000, 0.0),  # a number typed as text too (Excel's SUMIFS skips it)
        (APPROVE, True, 600000, 0.0),  # a boolean is not an amount
        (APPROVE_CHANGED, 450000, 600000, 450000.0),
        (APPROVE_CHANGED, None, 600000, 600000.0),  # blank: as requested (decisions warns)
        (REJECT, None, 600000, 0.0),
        (REJECT, 300000, 600000, 0.0),  # an amount typed on a rejection approves nothing
        (REVISE, 300000, 600000, None),  # sent back: nothing approved yet
        ("", 300000, 600000, None),  # no decision
        ("unknown", None, 600000, None),
    ],
)
def test_what_a_decision_approves(meaning, typed, requested, approved):
    assert approved_amount(meaning, typed, requested) == approved
