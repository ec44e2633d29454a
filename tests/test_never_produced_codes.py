"""Finding codes no test used to produce (issue 17): a template sheet deleted, a department gone from
the strategy. Real templates, edited as a person would, reconciled; the findings and the master checked."""

from __future__ import annotations

import openpyxl

from cascadebook import generate, load_strategy, reconcile, write_master
from conftest import SAMPLE_STRATEGY, clean_initiative, clean_kpi
from corpus import make_corpus as corpus
from fill import fill_workbook


def _findings_sheet(path) -> list[dict]:
    ws = openpyxl.load_workbook(path, read_only=True)["Findings"]
    rows = list(ws.iter_rows(values_only=True))
    [at] = [i for i, r in enumerate(rows) if r and "Code" in r]
    head = rows[at]
    return [dict(zip(head, r)) for r in rows[at + 1 :] if any(v is not None for v in r)]


def test_a_deleted_kpis_sheet_is_missing_sheet_and_the_initiatives_are_still_taken(
    strategy, key, returned, fill, workdir
):
    """Marketing deletes its KPIs sheet: an error names the file and the missing sheet; the Initiatives
    rows are still read into the master (nothing else is lost: there were no other rows)."""
    path = fill(
        "MKT",
        rows={
            "initiatives": [
                clean_initiative("CO1", "Campaign", 60, 66),
                clean_initiative("CO3", "Awareness", 0.48, 0.5, unit="%"),
            ],
            "kpis": [clean_kpi("MKT-I01", "Leads")],
        },
    )

    def delete(book):
        del book["KPIs"]

    corpus.edit(path, path, delete)
    result = reconcile(strategy, [returned], key=key, jobs=1)
    [missing] = [f for f in result.findings if f.code == "missing-sheet"]
    assert (missing.file, missing.sheet, missing.department, missing.severity.value) == (
        "returned/MKT.xlsx",
        "KPIs",
        "MKT",
        "error",
    )
    assert missing.message == "the 'KPIs' sheet is missing"
    assert result.sources[0].status == "accepted"
    assert [(r.id, r.values["title"]) for r in result.initiatives] == [
        ("MKT-I01", "Campaign"),
        ("MKT-I02", "Awareness"),
    ]
    assert not result.kpis
    master = write_master(result, workdir / "master.xlsx")
    shown = [r for r in _findings_sheet(master) if r.get("Code") == "missing-sheet"]
    assert len(shown) == 1 and shown[0]["Message"] == "the 'KPIs' sheet is missing"


def test_a_template_of_a_department_no_longer_in_the_strategy_is_unknown_department(workdir, strategy, key, returned):
    """Legal got a template; then Legal was dropped from the strategy. Its return is rejected with
    unknown-department (an error naming the department), its rows are not taken and say so."""
    text = SAMPLE_STRATEGY.read_text(encoding="utf-8")
    with_legal = workdir / "with legal" / "strategy.yaml"
    with_legal.parent.mkdir()
    with_legal.write_text(
        text.replace(
            "departments:\n",
            "departments:\n  - {code: LEG, name: Legal, head: Ann Lee, email: ann.lee@northwind.example}\n",
            1,
        ),
        encoding="utf-8",
    )
    earlier = load_strategy(with_legal)
    assert earlier.department("LEG") is not None and strategy.department("LEG") is None
    [template] = generate(earlier, workdir / "outbox", key=key, departments=["LEG"])
    fill_workbook(
        template, returned / "legal.xlsx", rows={"initiatives": [clean_initiative("CO1", "Contracts", 60, 61)]}
    )
    result = reconcile(strategy, [returned], key=key, jobs=1)
    [source] = result.sources
    assert (source.department, source.status) == ("LEG", "rejected")
    [unknown] = [f for f in result.findings if f.code == "unknown-department"]
    assert (unknown.file, unknown.department, unknown.severity.value) == ("returned/legal.xlsx", "LEG", "error")
    assert unknown.message == "department 'LEG' is not in the strategy"
    assert ("rows-not-taken", (5,)) in {(f.code, f.rows) for f in result.findings}
    assert not result.initiatives
