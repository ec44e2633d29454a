"""Regenerate the shipped samples: samples/strategy.xlsx and samples/returned/*.xlsx (and, by
samples/cascade_samples.py, the cascade's samples in samples/cascade/).

The returned workbooks are made by the tool and filled as department heads would: five of the
six departments answer (HR has not), Sales sent an early draft and then a final version, and
Operations' workbook carries the typical mistakes (text numbers, a made-up objective, a blank
required cell, a KPI pointing at an initiative that does not exist, a target against the
objective's direction, a period outside the cycle).

    python samples/make_samples.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from cascadebook import generate, load_key, load_strategy

HERE = Path(__file__).resolve().parent
# The samples are filled the way the tests fill workbooks, with the tests' helpers (not shipped).
sys.path.insert(0, str(HERE.parent / "tests"))
from fill import fill_workbook  # noqa: E402
from strategy_book import write_strategy_workbook  # noqa: E402

GENERATED_AT = "2027-01-04T09:00:00+00:00"


def initiative(
    objective,
    title,
    impact,
    metric,
    unit,
    baseline,
    target,
    due,
    owner,
    budget=None,
    headcount=None,
    weight=None,
    notes=None,
    contribution=None,
    split=None,
):
    return {
        k: v
        for k, v in dict(
            objective_id=objective,
            title=title,
            expected_impact=impact,
            metric=metric,
            unit=unit,
            baseline=baseline,
            target=target,
            due_period=due,
            owner=owner,
            budget=budget,
            headcount=headcount,
            contribution_weight=weight,
            contribution=contribution,
            objective_split=split,
            notes=notes,
        ).items()
        if v is not None
    }


def kpi(initiative_id, level, team, owner, name, unit, baseline, target, frequency, due=None):
    return {
        k: v
        for k, v in dict(
            initiative_id=initiative_id,
            level=level,
            team=team,
            owner=owner,
            name=name,
            unit=unit,
            baseline=baseline,
            target=target,
            frequency=frequency,
            due_period=due,
        ).items()
        if v is not None
    }


RETURNS = {
    "MKT": (
        "Marketing goals FY27 - final.xlsx",
        {
            "initiatives": [
                initiative(
                    "CO1",
                    "Account-based campaign targeting 50 key enterprise accounts",
                    "150 qualified enterprise leads",
                    "Qualified enterprise leads",
                    "count",
                    40,
                    150,
                    "Q4",
                    "Priya Raman",
                    420000,
                    3,
                    0.6,
                    contribution=7,
                ),
                initiative(
                    "CO3",
                    "Thought-leadership content programme in the Northeast",
                    "Brand awareness 48% to 60% among target enterprises",
                    "Aided awareness",
                    "%",
                    0.48,
                    0.6,
                    "Q4",
                    "Jonah Avery",
                    250000,
                    2,
                    0.4,
                    contribution=0.1,
                    split="CO3 80% / CO2 20%",
                ),
                initiative(
                    "CO2",
                    "Targeted advertising in underserved Northeast segments",
                    "+2 points of regional market share",
                    "Regional share",
                    "%",
                    0.12,
                    0.14,
                    "Q3",
                    "Jonah Avery",
                    310000,
                    1,
                    contribution=0.02,
                ),
            ],
            "kpis": [
                kpi(
                    "MKT-I01",
                    "Team",
                    "Demand generation",
                    "Sofia Lind",
                    "Qualified enterprise leads per quarter",
                    "count",
                    10,
                    38,
                    "Quarterly",
                    "Q4",
                ),
                kpi(
                    "MKT-I01",
                    "Individual",
                    "Demand generation",
                    "Ben Carter",
                    "Target accounts with an engaged buying group",
                    "count",
                    5,
                    50,
                    "Monthly",
                    "Q4",
                ),
                kpi(
                    "MKT-I02",
                    "Team",
                    "Content",
                    "Jonah Avery",
                    "Thought-leadership pieces published",
                    "count",
                    6,
                    24,
                    "Quarterly",
                    "Q4",
                ),
                kpi(
                    "MKT-I03",
                    "Team",
                    "Performance marketing",
                    "Mia Torres",
                    "Cost per qualified lead",
                    "currency",
                    900,
                    650,
                    "Monthly",
                    "Q3",
                ),
            ],
        },
    ),
    "SAL": (
        "SAL returned.xlsx",
        {
            "initiatives": [
                initiative(
                    "CO1",
                    "Restructure the enterprise sales team for solution selling",
                    "Close rate from 15% to 22%",
                    "Enterprise close rate",
                    "%",
                    0.15,
                    0.22,
                    "Q3",
                    "Marcus Bell",
                    180000,
                    2,
                    0.5,
                    contribution=4,
                ),
                initiative(
                    "CO4",
                    "Value-based selling to increase average deal size by 15%",
                    "Average deal size $212k to $244k",
                    "Average deal size",
                    "currency",
                    212000,
                    244000,
                    "Q4",
                    "Marcus Bell",
                    90000,
                    0,
                    0.5,
                    contribution=14000000,
                ),
                initiative(
                    "CO6",
                    "Quarterly business reviews with top 40 accounts",
                    "NPS of reviewed accounts +10",
                    "NPS (top accounts)",
                    "points",
                    33,
                    43,
                    "Q4",
                    "Ana Duarte",
                ),
            ],
            "kpis": [
                kpi(
                    "SAL-I02",
                    "Team",
                    "Key accounts",
                    "Ana Duarte",
                    "Cross-sell deals over $250,000 per quarter",
                    "count",
                    1,
                    3,
                    "Quarterly",
                    "Q4",
                ),
                kpi(
                    "SAL-I02",
                    "Individual",
                    "Key accounts",
                    "Ravi Shah",
                    "Cross-sell proposals to existing clients per month",
                    "count",
                    0,
                    1,
                    "Monthly",
                    "Q4",
                ),
                kpi(
                    "SAL-I01",
                    "Team",
                    "Enterprise sales",
                    "Marcus Bell",
                    "Enterprise close rate",
                    "%",
                    0.15,
                    0.22,
                    "Quarterly",
                    "Q3",
                ),
                kpi(
                    "SAL-I03",
                    "Individual",
                    "Key accounts",
                    "Ana Duarte",
                    "QBRs held with top accounts",
                    "count",
                    10,
                    40,
                    "Quarterly",
                    "Q4",
                ),
            ],
        },
    ),
    "OPS": (
        "Copy of FY2027_OPS (2).xlsx",
        {  # the one with the typical mistakes
            "initiatives": [
                initiative(
                    "CO5",
                    "Optimise supply-chain logistics",
                    "Delivery time from 10 to 8 days",
                    "Average delivery time",
                    "days",
                    10,
                    8,
                    "Q3",
                    "Elena Novak",
                    "1,200,000",
                    4,
                    contribution=-1.5,
                ),
                initiative(
                    "CO4",
                    "Automate order processing for 30% more volume without more headcount",
                    "30% more orders with the same team",
                    "Orders per FTE",
                    "ratio",
                    "1.200,50",
                    "15%",
                    "Q4",
                    "Elena Novak",
                    "$250k",
                ),
                initiative(
                    "CO9",
                    "Quality control metrics during scaling",
                    "Defect rate below 0.5%",
                    "Defect rate",
                    "%",
                    0.009,
                    0.005,
                    "Q5",
                    "Hugo Martin",
                ),
                initiative(
                    "CO5",
                    "Second distribution centre in Albany",
                    "Delivery time 10 to 12 days",
                    "Delivery time",
                    "days",
                    10,
                    12,
                    "Q4",
                    None,
                    2500000,
                    6,
                ),
            ],
            "kpis": [
                kpi(
                    "OPS-I01", "Team", "Logistics", "Kai Jensen", "On-time shipments", "%", "88%", "97%", "Weekly", "Q3"
                ),
                kpi(
                    "OPS-I02",
                    "Individual",
                    "Order desk",
                    "Lena Fischer",
                    "Orders processed per FTE per day",
                    "count",
                    "forty",
                    52,
                    "Monthly",
                    "Q4",
                ),
                kpi(
                    "OPS-I07", "Team", "Quality", "Hugo Martin", "Defects per thousand units", "count", 9, 5, "Monthly"
                ),
            ],
        },
    ),
    "RND": (
        "R&D plan.xlsx",
        {
            "initiatives": [
                initiative(
                    "CO2",
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
                initiative(
                    "CO6",
                    "Ship the ten most requested product features",
                    "NPS +5 from feature requests closed",
                    "Top-10 requests shipped",
                    "count",
                    2,
                    10,
                    "Q4",
                    "Aiko Tanaka",
                    600000,
                    4,
                ),
            ],
            "kpis": [
                kpi(
                    "RND-I01",
                    "Team",
                    "Embedded",
                    "Aiko Tanaka",
                    "Prototype milestones met",
                    "count",
                    0,
                    4,
                    "Quarterly",
                    "Q4",
                ),
                kpi(
                    "RND-I02",
                    "Team",
                    "Platform",
                    "Omar Haddad",
                    "Requested features shipped",
                    "count",
                    2,
                    10,
                    "Quarterly",
                    "Q4",
                ),
                kpi(
                    "RND-I02",
                    "Individual",
                    "Platform",
                    "Omar Haddad",
                    "Release cycle time",
                    "days",
                    45,
                    30,
                    "Monthly",
                    "Q3",
                ),
            ],
        },
    ),
    "FIN": (
        "FY2027_FIN.xlsx",
        {
            "initiatives": [
                initiative(
                    "CO4",
                    "Pricing review of the top 200 SKUs",
                    "Gross margin +1.5 points",
                    "Gross margin",
                    "%",
                    0.31,
                    0.325,
                    "Q2",
                    "Grace Okafor",
                    60000,
                    1,
                    contribution=3000000,
                ),
            ],
            "kpis": [
                kpi("FIN-I01", "Team", "FP&A", "Grace Okafor", "SKUs repriced", "count", 0, 200, "Monthly", "Q2"),
                kpi(
                    "FIN-I01",
                    "Individual",
                    "FP&A",
                    "Noah Price",
                    "Margin bridge published",
                    "count",
                    0,
                    4,
                    "Quarterly",
                    "Q4",
                ),
            ],
        },
    ),
}

SALES_DRAFT = {
    "initiatives": [
        initiative(
            "CO1", "Hire two enterprise account executives", "TBD", "Close rate", "%", 0.15, 0.18, "Q2", "Marcus Bell"
        )
    ]
}


def main(out: Path = HERE) -> None:
    strategy_path = HERE / "strategy.yaml"
    strategy = load_strategy(strategy_path)
    write_strategy_workbook(strategy, out / "strategy.xlsx")
    returned = out / "returned"
    if returned.exists():
        shutil.rmtree(returned)
    returned.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        templates = {
            p.stem.split("_")[-1]: p
            for p in generate(strategy, tmp, key=load_key(strategy_path), generated_at=GENERATED_AT)
        }
        for day, (code, (name, rows)) in enumerate(RETURNS.items(), 20):
            fill_workbook(templates[code], returned / name, rows=rows, saved_at=datetime(2027, 1, day, 16, 30))
        fill_workbook(
            templates["SAL"], returned / "Sales draft.xlsx", rows=SALES_DRAFT, saved_at=datetime(2027, 1, 12, 11, 0)
        )
    print(f"wrote {out / 'strategy.xlsx'} and {len(RETURNS) + 1} returned workbooks in {returned}")
    if out == HERE:  # and the cascade's samples (samples/cascade/: the org tree, two rounds)
        import cascade_samples

        cascade_samples.main()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
