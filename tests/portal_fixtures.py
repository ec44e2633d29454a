"""A cycle folder for the portal tests: the sample strategy, its key and templates, workbooks filled as
a head would (one with mistakes, the same fixed, another department's clean one), and a portal on it."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cascadebook import generate, load_key, load_strategy
from cascadebook.portal.app import Portal, create_app
from cascadebook.portal.store import Store
from cascadebook.spec.schema import resolve_spec
from conftest import SAMPLE_STRATEGY, clean_initiative, clean_kpi
from fill import fill_workbook

TODAY = date(2027, 1, 20)  # before the sample's deadline (2027-01-29) and its closing (+6 weeks)


@dataclass
class Cycle:
    root: Path
    strategy_path: Path
    templates: dict[str, Path]
    mkt_bad: Path
    mkt_good: Path
    sal: Path


def make_cycle(root: Path) -> Cycle:
    root.mkdir(parents=True, exist_ok=True)
    strategy_path = root / "strategy.yaml"
    shutil.copyfile(SAMPLE_STRATEGY, strategy_path)
    strategy = load_strategy(strategy_path)
    key = load_key(strategy_path, create=True)
    templates = {
        p.stem.split("_")[-1]: p
        for p in generate(strategy, root / "outbox", key=key, generated_at="2027-01-04T09:00:00+00:00")
    }
    filled = root / "filled"
    good = {
        "initiatives": [
            clean_initiative("CO1", "Campaign", 40, 150, contribution_weight=60),
            clean_initiative("CO3", "Share of voice", "48%", "60%", unit="%"),
        ],
        "kpis": [clean_kpi("MKT-I01", "Leads"), clean_kpi("MKT-I02", "Mentions")],
    }
    bad = {
        "initiatives": [
            clean_initiative("CO9", "Campaign", 40, 150, headcount="about 3", contribution_weight=60),
            clean_initiative("CO3", "Share of voice", "48%", "60%", unit="%", due_period="Q7"),
        ],
        "kpis": [clean_kpi("MKT-I01", "Leads", frequency="sometimes"), clean_kpi("MKT-I02", "Mentions")],
    }
    return Cycle(
        root,
        strategy_path,
        templates,
        fill_workbook(templates["MKT"], filled / "FY2027_MKT mistakes.xlsx", rows=bad),
        fill_workbook(templates["MKT"], filled / "FY2027_MKT.xlsx", rows=good),
        fill_workbook(
            templates["SAL"],
            filled / "FY2027_SAL.xlsx",
            rows={
                "initiatives": [clean_initiative("CO1", "Solution selling", 10, 20)],
                "kpis": [clean_kpi("SAL-I01", "Deals")],
            },
        ),
    )


def make_portal(cycle: Cycle, database: str | None = None, **options) -> Portal:
    strategy = load_strategy(cycle.strategy_path)
    options.setdefault("today", TODAY)
    return Portal(
        strategy,
        cycle.strategy_path,
        resolve_spec(None, strategy),
        load_key(cycle.strategy_path),
        Store(cycle.root, database),
        **options,
    )


def client_for(portal: Portal):
    from starlette.testclient import TestClient

    return TestClient(create_app(portal), base_url="http://127.0.0.1")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def upload(client, link: str, path: Path, name: str | None = None, *, csrf: str | None = None):
    """Open the page (for its CSRF token and cookie) and upload ``path`` as a browser's form would."""
    page = client.get(link)
    token = csrf_of(page.text) if csrf is None else csrf
    with open(path, "rb") as handle:
        return client.post(
            f"{link}/upload",
            data={"csrf": token},
            files={"workbook": (name or path.name, handle, "application/octet-stream")},
            follow_redirects=True,
        )


def stored_files(cycle: Cycle) -> list[Path]:
    return [p for p in (cycle.root / "portal" / "files").rglob("*") if p.is_file()]


def postgres_url() -> str | None:
    return os.environ.get("CASCADEBOOK_TEST_POSTGRES") or None
