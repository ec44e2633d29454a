"""Which returns reconcile accepts by their identity, stated as a table (fast: no workbook is built).

``identify`` takes what reading found (the metadata, how the file was identified, which departments
its rows show, copies of the identity that disagree, a spec that was not found) and decides: accepted
(with a warning when unverified, identified by content, or stale) or rejected, with one finding that
says why. The file name is never consulted.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from cascadebook.findings import Finding
from cascadebook.intake.identity import identify
from cascadebook.intake.reader import Return
from cascadebook.model import Department, Metadata, Objective, Strategy
from cascadebook.signing import sign

KEY = b"office-key"
STRATEGY = Strategy(
    cycle="FY2026",
    objectives=(Objective("O1", "Grow revenue", baseline=1.0, target=2.0),),
    departments=(Department("SALES", "Sales"), Department("FIN", "Finance"), Department("OPS", "Operations")),
)
META = Metadata(
    format_version="2",
    cycle="FY2026",
    department="SALES",
    spec_name="department",
    spec_version="3",
    fingerprint=STRATEGY.fingerprint(),
    generated_at="2026-01-05T10:00:00+00:00",
)
FILE = "returns/anything.xlsx"


def signed(meta: Metadata = META, key: bytes = KEY) -> Metadata:
    return replace(meta, signature=sign(meta, key))


def make(meta: Metadata | None, **fields) -> Return:
    """A return as reading leaves it: status "read", one finding of its own (a reading finding)."""
    ret = Return(path="/tmp/" + FILE, file=FILE, metadata=meta, **{"identified_by": "metadata sheet", **fields})
    ret.findings.append(
        Finding("formula-without-value", "a formula has no value", file=FILE, sheet="Initiatives", cell="B7")
    )
    return ret


def judged(ret: Return, key: bytes | None = KEY) -> tuple[str, str, list[tuple[str, str, str, str]]]:
    identify(ret, STRATEGY, key)
    assert ret.read_findings == 1  # what reading found is counted before identity adds its own
    assert ret.findings[0].code == "formula-without-value"
    return ret.status, ret.reason, [(f.code, f.message, f.file, f.department) for f in ret.findings[1:]]


# ---- metadata identified: the table ----------------------------------------------------------------

UNVERIFIED = "no signing key was found, so the template's identity could not be verified"
STALE = "the objectives changed after this template was generated"
MISMATCH = "the metadata says SALES but its signature does not match; it was edited or copied"


@pytest.mark.parametrize(
    ("meta", "key", "extra", "status", "reason", "findings"),
    [
        # signed with the office key, this cycle, a known department: accepted, nothing to say
        (signed(), KEY, {}, "accepted", "", []),
        # the department code is matched case-blind and without spaces
        (signed(replace(META, department="sales")), KEY, {}, "accepted", "", []),
        # no key at reconcile: accepted, but said to be unverified
        (signed(), None, {}, "accepted", "", [("signature-unverified", UNVERIFIED, FILE, "SALES")]),
        (replace(META, signature=""), None, {}, "accepted", "", [("signature-unverified", UNVERIFIED, FILE, "SALES")]),
        # signed with another key, or edited after signing: rejected
        (
            signed(key=b"other"),
            KEY,
            {},
            "rejected",
            "metadata does not match its signature",
            [("signature-mismatch", MISMATCH, FILE, "SALES")],
        ),
        (
            replace(signed(), generated_at="2026-01-06T10:00:00+00:00"),
            KEY,
            {},
            "rejected",
            "metadata does not match its signature",
            [("signature-mismatch", MISMATCH, FILE, "SALES")],
        ),
        # objectives changed after generation: accepted with a warning
        (
            signed(replace(META, fingerprint="0000")),
            KEY,
            {},
            "accepted",
            "",
            [("stale-template", STALE, FILE, "SALES")],
        ),
        (
            signed(replace(META, fingerprint="0000")),
            None,
            {},
            "accepted",
            "",
            [("signature-unverified", UNVERIFIED, FILE, "SALES"), ("stale-template", STALE, FILE, "SALES")],
        ),
        # another cycle's template: rejected before anything else is looked at
        (
            signed(replace(META, cycle="FY2025")),
            KEY,
            {},
            "rejected",
            "template of cycle FY2025, not FY2026",
            [("other-cycle", "the template belongs to cycle 'FY2025', this reconcile is 'FY2026'", FILE, "SALES")],
        ),
        (
            signed(replace(META, cycle="")),  # metadata without a cycle is not this cycle's
            KEY,
            {},
            "rejected",
            "template of cycle , not FY2026",
            [("other-cycle", "the template belongs to cycle '', this reconcile is 'FY2026'", FILE, "SALES")],
        ),
        # a department the strategy does not have
        (
            signed(replace(META, department="HR")),
            KEY,
            {},
            "rejected",
            "unknown department HR",
            [("unknown-department", "department 'HR' is not in the strategy", FILE, "HR")],
        ),
        # signed with a spec that is not found: its rows would be read by another spec's headers
        (
            signed(),
            KEY,
            {"spec_problem": "spec department@3 is not installed"},
            "rejected",
            "template spec department@3 not found",
            [("spec-mismatch", "spec department@3 is not installed", FILE, "SALES")],
        ),
        (
            signed(),
            None,
            {"spec_problem": "spec department@3 is not installed"},
            "rejected",
            "template spec department@3 not found",
            [
                ("signature-unverified", UNVERIFIED, FILE, "SALES"),
                ("spec-mismatch", "spec department@3 is not installed", FILE, "SALES"),
            ],
        ),
        # a signature mismatch is decided before the spec is looked at
        (
            signed(key=b"other"),
            KEY,
            {"spec_problem": "spec department@3 is not installed"},
            "rejected",
            "metadata does not match its signature",
            [("signature-mismatch", MISMATCH, FILE, "SALES")],
        ),
        # two copies of the identity disagree (metadata sheet vs document properties): rejected first
        (
            signed(),
            KEY,
            {"identity_problem": "the metadata sheet says SALES, the properties say FIN"},
            "rejected",
            "identity metadata copied or edited",
            [("signature-mismatch", "the metadata sheet says SALES, the properties say FIN", FILE, "SALES")],
        ),
        (
            signed(replace(META, cycle="FY2025")),
            KEY,
            {"identity_problem": "the titles say FIN"},
            "rejected",
            "identity metadata copied or edited",
            [("signature-mismatch", "the titles say FIN", FILE, "SALES")],
        ),
        # rows of several departments matter only when identified by content, not with metadata
        (signed(), KEY, {"content_departments": ("SALES", "FIN")}, "accepted", "", []),
    ],
)
def test_identity_decides_acceptance(meta, key, extra, status, reason, findings):
    assert judged(make(meta, **extra), key) == (status, reason, findings)


def test_a_rejected_or_accepted_return_keeps_its_metadata_department():
    for meta in (signed(), signed(key=b"other"), signed(replace(META, cycle="FY2025"))):
        ret = make(meta)
        identify(ret, STRATEGY, KEY)
        assert ret.metadata is meta and ret.department == "SALES"


def test_without_metadata_nothing_is_decided():
    """An unreadable file (or one reading could not identify) keeps what reading said."""
    ret = make(None)
    ret.status, ret.reason = "unreadable", "the file is damaged"
    identify(ret, STRATEGY, KEY)
    assert (ret.status, ret.reason, ret.read_findings, len(ret.findings)) == ("unreadable", "the file is damaged", 1, 1)
    bare = Return(path="x", file="x")
    identify(bare, STRATEGY, None)
    assert (bare.status, bare.read_findings, bare.findings) == ("read", 0, [])


# ---- identified by content (no metadata left) ------------------------------------------------------


def content(meta: Metadata, departments: tuple[str, ...], reason: str = "titles") -> Return:
    return make(meta, identified_by="content", content_departments=departments, reason=reason)


BY_CONTENT = Metadata("", "FY2026", "SALES", "", "", "", "")


@pytest.mark.parametrize(
    ("meta", "departments", "key", "status", "reason", "message"),
    [
        (
            BY_CONTENT,
            ("SALES",),
            KEY,
            "accepted",
            "titles, unverified",
            (
                "no cascadebook metadata is left; the workbook was taken as SALES's from its visible content (titles), "
                "unverified"
            ),
        ),
        # no cycle shown on the sheets: still this cycle's, said so; nothing to verify even without a key
        (
            replace(BY_CONTENT, cycle=""),
            ("SALES",),
            None,
            "accepted",
            "titles, unverified",
            (
                "no cascadebook metadata is left; the workbook was taken as SALES's from its visible content (titles, "
                "cycle not shown), unverified"
            ),
        ),
        # ids of the same department in another case, and of departments the strategy lacks, are one department
        (
            BY_CONTENT,
            ("sales", "XYZ"),
            KEY,
            "accepted",
            "titles, unverified",
            (
                "no cascadebook metadata is left; the workbook was taken as SALES's from its visible content (titles), "
                "unverified"
            ),
        ),
    ],
)
def test_identified_by_content_is_accepted_unverified(meta, departments, key, status, reason, message):
    ret = content(meta, departments)
    assert judged(ret, key) == (status, reason, [("identified-by-content", message, FILE, "SALES")])


@pytest.mark.parametrize(
    ("meta", "status", "reason", "finding"),
    [
        (
            replace(BY_CONTENT, cycle="FY2025"),  # a cycle shown on the sheets that is not this one
            "rejected",
            "template of cycle FY2025, not FY2026",
            ("other-cycle", "the template belongs to cycle 'FY2025', this reconcile is 'FY2026'", FILE, "SALES"),
        ),
        (
            replace(BY_CONTENT, department="HR"),
            "rejected",
            "unknown department HR",
            ("unknown-department", "department 'HR' is not in the strategy", FILE, "HR"),
        ),
    ],
)
def test_identified_by_content_still_needs_this_cycle_and_a_known_department(meta, status, reason, finding):
    assert judged(content(meta, (meta.department,))) == (status, reason, [finding])


@pytest.mark.parametrize(
    ("department", "departments", "shown"),
    [
        ("SALES", ("SALES", "FIN"), "FIN, SALES"),
        ("SALES", ("FIN",), "FIN, SALES"),  # the taken department and the rows' one differ
        ("ops", ("FIN", "SALES"), "FIN, ops, SALES"),  # sorted case-blind
    ],
)
def test_rows_of_several_departments_are_no_single_departments_return(department, departments, shown):
    ret = content(replace(BY_CONTENT, department=department), departments)
    message = (
        f"the workbook has no cascadebook metadata and its rows belong to several departments ({shown}), so it is "
        "no single department's return (a master, or plans merged into one workbook); none of its rows was taken"
    )
    assert judged(ret) == (
        "rejected",
        f"rows of several departments ({shown})",
        [("several-departments", message, FILE, "")],
    )
    assert ret.metadata is not None and ret.metadata.department == "" and ret.department == ""
    assert ret.metadata.cycle == "FY2026"  # only the department is taken away
