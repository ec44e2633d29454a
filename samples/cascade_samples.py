"""Regenerate the cascade samples: samples/cascade/strategy.xlsx, returned/ (round 1) and returned-round2/.

Northwind with its org tree (samples/cascade/strategy.yaml): three divisions, the six departments under
them, four teams under Marketing and Sales. Round 1 is the flat ``generate``: the divisions answer, and so
do the departments that answered in the flat samples (their workbooks are the same rows, under the same
file names and with the same mistakes; R&D waits for its division's plan and HR has not answered). Round 2
is ``generate --from master --cascade`` on round 1's master: R&D aligns to the Operations division's
initiatives, the teams to Marketing's and Sales' (one team names an initiative Marketing does not have,
another sends its file back renamed).

    python samples/make_samples.py          (runs this too)
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from make_samples import GENERATED_AT, RETURNS, SALES_DRAFT, initiative, kpi

from cascadebook import generate, load_key, load_strategy, reconcile, write_master
from cascadebook.cycle.cascade_round import generate_cascade
from cascadebook.spec.schema import resolve_spec
from fill import fill_workbook
from strategy_book import write_strategy_workbook

HERE = Path(__file__).resolve().parent / "cascade"

# Round 1: the divisions' own plans. Their departments deliver them, so a division states targets and
# leaves the contribution to the objective to the rows that deliver it (no double counting).
DIVISIONS = {
    "COM": (
        "Commercial plan FY27.xlsx",
        [
            initiative(
                "CO1",
                "Win 12 new enterprise accounts in the Northeast",
                "72 enterprise customers by year end",
                "New enterprise customers",
                "count",
                60,
                72,
                "Q4",
                "Hannah Brooks",
                notes="Marketing fills the pipeline, Sales closes",
            ),
            initiative(
                "CO3",
                "Make Northwind the known name among target enterprises",
                "Aided awareness 48% to 75%",
                "Aided awareness",
                "%",
                0.48,
                0.75,
                "Q4",
                "Hannah Brooks",
            ),
        ],
    ),
    "OPD": (
        "FY2027_OPD.xlsx",
        [
            initiative(
                "CO5",
                "One delivery plan: order to door in 8 days",
                "Average delivery time 10 to 8 days",
                "Average delivery time",
                "days",
                10,
                8,
                "Q4",
                "Victor Alves",
                contribution=-2,
            ),
            initiative(
                "CO6",
                "Close the product gaps customers report most",
                "NPS +6 from product fixes",
                "NPS",
                "points",
                31,
                37,
                "Q4",
                "Victor Alves",
                contribution=6,
            ),
        ],
    ),
    "CRP": (
        "Corporate - plan.xlsx",
        [
            initiative(
                "CO7",
                "A place people want to stay",
                "Engagement index 68 to 74",
                "Engagement index",
                "points",
                68,
                74,
                "Q4",
                "Ruth Adeyemi",
                contribution=6,
            ),
        ],
    ),
}

# Round 2: what the cascaded templates came back with (their objective column names the parent's initiatives).
RND_ROUND2 = {
    "initiatives": [
        initiative(
            "OPD-I02",
            "Ship the ten most requested product features",
            "NPS +4 from feature requests closed",
            "Top-10 requests shipped",
            "points",
            31,
            35,
            "Q4",
            "Aiko Tanaka",
            600000,
            4,
            contribution=4,
        ),
        initiative(
            "CO2",  # a corporate objective id is still accepted from a unit aligned to its parent's plan
            "Sensor module for the Northeast food-processing segment",
            "New segment worth 2 points of market share",
            "Segment revenue share",
            "%",
            0,
            0.02,
            "Q4",
            "Tomasz Wojcik",
            900000,
            5,
            contribution=0.02,
        ),
    ],
    "kpis": RETURNS["RND"][1]["kpis"],
}
TEAMS = {
    "DIG": (
        "Digital team plan.xlsx",
        {
            "initiatives": [
                initiative(
                    "MKT-I01",
                    "Landing pages and nurture for the 50 target accounts",
                    "60 qualified leads from the web",
                    "Qualified enterprise leads",
                    "count",
                    0,
                    60,
                    "Q3",
                    "Sofia Lind",
                    80000,
                    1,
                    contribution=60,
                ),
                initiative(
                    "MKT-I03",
                    "Paid search in the underserved segments",
                    "+1 point of regional share",
                    "Regional share",
                    "%",
                    0.12,
                    0.13,
                    "Q3",
                    "Mia Torres",
                    120000,
                    contribution=0.01,
                ),
            ],
            "kpis": [
                kpi("DIG-I01", "Individual", "Web", "Sofia Lind", "Landing pages live", "count", 0, 50, "Monthly")
            ],
        },
    ),
    "EVT": (
        "FY2027_EVT (1).xlsx",
        {
            "initiatives": [
                initiative(
                    "MKT-I01",
                    "Trade-show circuit: five Northeast shows",
                    "40 qualified leads from the shows",
                    "Qualified enterprise leads",
                    "count",
                    0,
                    40,
                    "Q4",
                    "Jonah Avery",
                    150000,
                    1,
                    contribution=40,
                ),
                initiative(
                    "MKT-I05",  # Marketing's plan has three initiatives: parent-initiative-unknown
                    "Customer day in Albany",
                    "30 key accounts attend",
                    "Attendees",
                    "count",
                    0,
                    30,
                    "Q2",
                    "Jonah Avery",
                    40000,
                ),
            ],
        },
    ),
    "ENT": (
        "Enterprise team FY27.xlsx",
        {
            "initiatives": [
                initiative(
                    "SAL-I01",
                    "Solution-selling training for the enterprise team",
                    "Close rate from 15% to 20%",
                    "Enterprise close rate",
                    "%",
                    0.15,
                    0.2,
                    "Q2",
                    "Ana Duarte",
                    60000,
                    contribution=0.05,
                ),
                initiative(
                    "SAL-I02",
                    "Bundle service contracts into every enterprise deal",
                    "Average deal size +$20k",
                    "Average deal size",
                    "currency",
                    212000,
                    232000,
                    "Q4",
                    "Ana Duarte",
                    contribution=20000,
                ),
            ],
            "kpis": [kpi("ENT-I01", "Team", "Enterprise", "Ana Duarte", "Deals closed", "count", 8, 14, "Quarterly")],
        },
    ),
    "INS": (
        "Inside sales plan.xlsx",
        {
            "initiatives": [
                initiative(
                    "SAL-I01",
                    "Qualify inbound enterprise leads within a day",
                    "Close rate +2 points on inbound deals",
                    "Enterprise close rate",
                    "%",
                    0.15,
                    0.17,
                    "Q3",
                    "Ravi Shah",
                    contribution=0.02,
                ),
            ],
        },
    ),
}
ROUND1_DEPARTMENTS = ("MKT", "SAL", "OPS", "FIN")  # as in the flat samples; RND answers in round 2, HR not at all


def main(out: Path = HERE) -> None:
    strategy_path = HERE / "strategy.yaml"
    strategy, key = load_strategy(strategy_path), load_key(strategy_path)
    spec = resolve_spec(None, strategy)
    write_strategy_workbook(strategy, out / "strategy.xlsx")
    round1, round2 = out / "returned", out / "returned-round2"
    for folder in (round1, round2):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        templates = {p.stem.split("_")[-1]: p for p in generate(strategy, tmp, key=key, generated_at=GENERATED_AT)}
        for day, (code, (name, rows)) in enumerate(DIVISIONS.items(), 14):
            saved = datetime(2027, 1, day, 17, 0)
            fill_workbook(templates[code], round1 / name, rows={"initiatives": rows}, saved_at=saved)
        for day, code in enumerate(ROUND1_DEPARTMENTS, 20):
            name, rows = RETURNS[code]
            fill_workbook(templates[code], round1 / name, rows=rows, saved_at=datetime(2027, 1, day, 16, 30))
        fill_workbook(
            templates["SAL"], round1 / "Sales draft.xlsx", rows=SALES_DRAFT, saved_at=datetime(2027, 1, 12, 11, 0)
        )
        master = Path(tmp) / "master.xlsx"
        write_master(reconcile(strategy, [round1], key=key, jobs=1), master)
        cascaded = generate_cascade(
            strategy, master, Path(tmp) / "round2", spec=spec, key=key, generated_at="2027-02-01T09:00:00+00:00"
        )
        templates = {p.stem.split("_")[-1]: p for p in cascaded.written}
        returns = {"RND": ("R&D plan.xlsx", RND_ROUND2), **TEAMS}
        for day, (code, (name, rows)) in enumerate(returns.items(), 8):
            fill_workbook(templates[code], round2 / name, rows=rows, saved_at=datetime(2027, 2, day, 15, 0))
    print(f"wrote {out / 'strategy.xlsx'}, {len(list(round1.iterdir()))} round-1 and {len(returns)} round-2 returns")


if __name__ == "__main__":
    main()
