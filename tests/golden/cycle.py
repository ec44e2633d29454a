"""The golden cycle: one whole planning cycle run through the command line only, filled as people fill it.

The golden files (tests/golden/expected/) pin what every command writes, so that a reorganisation of
the package that means to change no behaviour can be checked cell by cell. To survive that
reorganisation this module imports nothing of cascadebook but the installed ``cascadebook`` command
(its console-script entry point, run in-process); the workbooks are filled with openpyxl, finding the
input columns by their header text, the way a person finds them.

The cycle (every path relative to a fresh temporary folder, which is the working directory):

1. ``generate`` the four departments' templates (``outbox/``);
2. fill MKT, SAL (a draft, then a final) and OPS (with typical mistakes) into ``returned/``; FIN never returns;
3. ``reconcile`` them into ``master.xlsx`` and ``master.json``; ``status`` as of a day after the deadline;
4. ``checkin`` Q1 from the master, fill the check-ins' actuals into ``checkins_returned/``;
5. ``reconcile`` the returns with the check-ins into ``master_progress.xlsx`` (a master with progress);
6. ``generate --from`` that master (``next_outbox/``, prefilled templates for the next round);
7. SAL changes its return (an initiative retargeted, one added, a KPI re-owned): ``master2.xlsx``;
8. ``diff`` the two masters (``diff.xlsx``, ``diff.json``) and ``export`` the master with progress.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import openpyxl
from click.testing import CliRunner

GOLDEN = Path(__file__).resolve().parent
STRATEGY = GOLDEN / "strategy.yaml"
EXPECTED = GOLDEN / "expected"
# A public test key, so the cycle signs as a real one does. Signatures still change from run to run
# (they cover the generation time), so the normaliser replaces them; the key only makes them verify.
SIGNING_KEY = "golden-test-key-0123456789abcdef0123456789abcdef0123456789abcdef\n"
KEY_FILE_NAME = ".cascadebook-key"  # where the command looks for the key: beside the strategy
PERIOD = "Q1"
STATUS_DAY = "2027-02-15"  # `status --today`: after the response deadline, so FIN shows late

# What each department types. Keys are the column headers people see (without the " *" of required ones).
MKT_INITIATIVES = [
    {
        "Objective": "CO1",
        "Initiative": "Account-based campaign for enterprise prospects",
        "Expected impact": "5 new enterprise customers",
        "Metric": "Enterprise deals won",
        "Unit": "count",
        "Baseline": 0,
        "Target": 5,
        "Due period": "Q4",
        "Owner": "Priya Raman",
        "Budget": 250000,
        "Headcount": 2,
        "Weight": 0.4,
        "Contribution (objective unit)": 5,
        "Notes": "Agency retainer included",
    },
    {
        "Objective": "CO2",
        "Initiative": "Regional trade-show presence",
        "Expected impact": "Share of voice 10% to 18%",
        "Metric": "Share of voice",
        "Unit": "%",
        "Baseline": 0.10,
        "Target": 0.18,
        "Due period": "Q3",
        "Owner": "Jon Ellis",
        "Budget": 120000,
        "Headcount": 1,
        "Weight": "60%",  # a percent typed as text, as people do
        "Contribution (objective unit)": 0.03,
    },
]
# fmt: off
MKT_KPIS = [
    {"Initiative ID": "MKT-I01", "Level": "Team", "Team": "Demand gen", "Owner": "Priya Raman",
     "KPI": "Qualified enterprise leads", "Unit": "count", "Baseline": 40, "Target": 150, "Frequency": "Monthly",
     "Due period": "Q4"},
    {"Initiative ID": "MKT-I01", "Level": "Individual", "Owner": "Sam Ortiz", "KPI": "Target-account meetings booked",
     "Unit": "count", "Baseline": 0, "Target": 60, "Frequency": "Quarterly", "Due period": "Q4"},
    {"Initiative ID": "MKT-I02", "Level": "Team", "Team": "Events", "Owner": "Jon Ellis", "KPI": "Booth visits",
     "Unit": "count", "Baseline": 300, "Target": 900, "Frequency": "Quarterly", "Due period": "Q3"},
]
# fmt: on
SAL_INITIATIVES = [
    {
        "Objective": "CO1",
        "Initiative": "Named-account sales pods",
        "Expected impact": "7 new enterprise customers",
        "Metric": "Enterprise deals won",
        "Unit": "count",
        "Baseline": 0,
        "Target": 7,
        "Due period": "Q4",
        "Owner": "Marcus Bell",
        "Budget": 400000,
        "Headcount": 3,
        "Contribution (objective unit)": 7,
    },
    {
        "Objective": "CO3",
        "Initiative": "Upsell programme for the installed base",
        "Expected impact": "$12M extra revenue",
        "Metric": "Upsell revenue",
        "Unit": "currency",
        "Baseline": 3000000,
        "Target": 15000000,
        "Due period": "Q4",
        "Owner": "Nina Park",
        "Budget": 150000,
        "Contribution (objective unit)": 12000000,
    },
]
# fmt: off
SAL_KPIS = [
    {"Initiative ID": "SAL-I01", "Level": "Team", "Team": "Enterprise pod", "Owner": "Marcus Bell",
     "KPI": "Enterprise pipeline value", "Unit": "currency", "Baseline": 2000000, "Target": 9000000,
     "Frequency": "Monthly", "Due period": "Q4"},
    {"Initiative ID": "SAL-I02", "Level": "Individual", "Owner": "Nina Park", "KPI": "Upsell deals closed",
     "Unit": "count", "Baseline": 10, "Target": 40, "Frequency": "Quarterly", "Due period": "Q4"},
]
# fmt: on
OPS_INITIATIVES = [  # Operations makes the typical mistakes
    {
        "Objective": "CO4",
        "Initiative": "Regional depots",
        "Expected impact": "Delivery time 10 to 8 days",
        "Metric": "Order-to-delivery days",
        "Unit": "days",
        "Baseline": 10,
        "Target": 8,
        "Due period": "Q4",
        "Owner": "Elena Novak",
        "Budget": 1800000,
        "Headcount": 6,
        "Contribution (objective unit)": -1.5,
    },
    {  # against the objective's direction (CO4 decreases)
        "Objective": "CO4",
        "Initiative": "Carrier consolidation",
        "Expected impact": "Fewer carriers",
        "Unit": "days",
        "Baseline": 9,
        "Target": 11,
        "Due period": "Q2",
        "Owner": "Omar Haddad",
        "Budget": "80k",  # not a number
    },
    {  # an objective that does not exist, no owner
        "Objective": "CO9",
        "Initiative": "Warehouse automation",
        "Expected impact": "Picking errors halved",
        "Target": 0.5,
        "Due period": "Q5",  # not a period of the cycle
    },
]
# fmt: off
OPS_KPIS = [
    {"Initiative ID": "OPS-I01", "Level": "Team", "Team": "Logistics", "Owner": "Elena Novak",
     "KPI": "Average delivery days", "Unit": "days", "Baseline": 10, "Target": 8, "Frequency": "Monthly",
     "Due period": "Q4"},
    {"Initiative ID": "OPS-I99", "Level": "Squad", "Owner": "Omar Haddad", "KPI": "Carrier count",
     "Target": 4},  # an unknown initiative and a level not from the list
]
# fmt: on
CHECKIN_ACTUALS = {  # department -> id -> what is typed in the check-in (headers of the check-in sheets)
    "MKT": {
        "MKT-I01": {"Actual": 1, "Status": "On track", "Confidence": "High", "Comment": "First deal signed"},
        "MKT-I02": {"Actual": 0.09, "Status": "Off track", "Confidence": "Low", "Comment": "Show cancelled"},
        "MKT-K01": {"Actual": 55, "Status": "On track", "Confidence": "Medium"},
        "MKT-K02": {"Actual": 12, "Status": "At risk", "Confidence": "Medium", "Comment": "Slow start"},
        "MKT-K03": {"Actual": 310, "Status": "On track"},
    },
    "SAL": {  # half answered
        "SAL-I01": {"Actual": 2, "Status": "On track", "Confidence": "High"},
        "SAL-K01": {"Actual": 3500000, "Status": "Done", "Confidence": "High", "Comment": "Pipeline built"},
    },
    "OPS": {
        "OPS-I01": {"Actual": 9.5, "Status": "At risk", "Confidence": "Medium", "Comment": "Depot lease late"},
        "OPS-K01": {"Actual": "9,6", "Status": "At risk"},  # a decimal comma, typed as text
    },
}
SAVED = {  # the "last saved" time of each filled workbook (newest wins in reconcile)
    "MKT": datetime(2027, 1, 25, 9, 0, tzinfo=timezone.utc),
    "SAL draft": datetime(2027, 1, 20, 10, 0, tzinfo=timezone.utc),
    "SAL": datetime(2027, 1, 27, 16, 30, tzinfo=timezone.utc),
    "OPS": datetime(2027, 1, 28, 8, 15, tzinfo=timezone.utc),
    "checkin": datetime(2027, 4, 6, 12, 0, tzinfo=timezone.utc),
    "SAL changed": datetime(2027, 2, 10, 11, 45, tzinfo=timezone.utc),
}


@dataclass
class CycleRun:
    """What one run of the cycle left: the folder, the outputs to compare and each command's transcript."""

    workdir: Path
    outputs: list[str] = field(default_factory=list)  # paths relative to workdir, sorted
    transcript: list[dict[str, Any]] = field(default_factory=list)
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    finished: datetime | None = None


def run_cycle(workdir: Path) -> CycleRun:
    """Run the whole cycle in ``workdir`` (empty or missing) and return what it wrote."""
    workdir.mkdir(parents=True, exist_ok=True)
    run = CycleRun(workdir=workdir.resolve())
    with _working_directory(workdir):
        shutil.copyfile(STRATEGY, "strategy.yaml")
        Path(KEY_FILE_NAME).write_text(SIGNING_KEY, encoding="ascii")

        _cli(run, "generate", ["generate", "strategy.yaml", "-o", "outbox", "-q"], expect=0)
        outbox = _template_paths("outbox")
        _fill_plan(
            outbox["SAL"], "returned/FY2027_SAL_draft.xlsx", SAL_INITIATIVES[:1], SAL_KPIS[:1], SAVED["SAL draft"]
        )
        _fill_plan(outbox["SAL"], "returned/FY2027_SAL.xlsx", SAL_INITIATIVES, SAL_KPIS, SAVED["SAL"])
        _fill_plan(outbox["MKT"], "returned/FY2027_MKT.xlsx", MKT_INITIATIVES, MKT_KPIS, SAVED["MKT"])
        _fill_plan(outbox["OPS"], "returned/FY2027_OPS.xlsx", OPS_INITIATIVES, OPS_KPIS, SAVED["OPS"])

        # -j 1: read in this process (the result is the same for any number of jobs); -v: warnings printed too
        reconcile = ["reconcile", "strategy.yaml", "returned", "-j", "1", "-v"]
        _cli(run, "reconcile", [*reconcile, "-o", "master.xlsx", "--json", "master.json"], expect=1)
        _cli(
            run,
            "status",
            ["status", "strategy.yaml", "returned", "--today", STATUS_DAY, "--json", "status.json"],
            expect=0,
        )

        _cli(
            run, "checkin", ["checkin", "master.xlsx", "-s", "strategy.yaml", "-p", PERIOD, "-o", "checkins"], expect=0
        )
        for code, path in _template_paths("checkins").items():
            _fill_checkin(path, f"checkins_returned/{Path(path).name}", CHECKIN_ACTUALS.get(code, {}))
        with_checkins = [*reconcile, "checkins_returned", "-o", "master_progress.xlsx"]
        _cli(run, "reconcile with check-ins", [*with_checkins, "--json", "master_progress.json"], expect=1)

        _cli(
            run,
            "generate --from",
            ["generate", "strategy.yaml", "-o", "next_outbox", "--from", "master_progress.xlsx", "-q"],
            expect=0,
        )

        for name in ("FY2027_MKT.xlsx", "FY2027_OPS.xlsx"):
            _copy("returned/" + name, "returned2/" + name)
        _fill_plan(outbox["SAL"], "returned2/FY2027_SAL.xlsx", *_sal_changed(), SAVED["SAL changed"])
        _cli(
            run,
            "reconcile 2",
            [
                "reconcile",
                "strategy.yaml",
                "returned2",
                "-j",
                "1",
                "-v",
                "-o",
                "master2.xlsx",
                "--json",
                "master2.json",
            ],
            expect=1,
        )

        _cli(run, "diff", ["diff", "master.xlsx", "master2.xlsx", "-o", "diff.xlsx", "--json", "diff.json"], expect=0)
        _cli(run, "export", ["export", "master_progress.xlsx", "-o", "export"], expect=0)
    run.outputs = _outputs(run.workdir)
    run.finished = datetime.now(timezone.utc)
    return run


def _sal_changed() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """SAL's second return: SAL-I01 retargeted (7 to 9 deals, due Q3), a new initiative, a KPI re-owned."""
    initiatives = [dict(row) for row in SAL_INITIATIVES]
    initiatives[0].update({"Target": 9, "Due period": "Q3", "Contribution (objective unit)": 9})
    initiatives.append(
        {
            "Objective": "CO2",
            "Initiative": "Northeast channel partners",
            "Expected impact": "Market share +2 points",
            "Unit": "%",
            "Baseline": 0.12,
            "Target": 0.14,
            "Due period": "Q4",
            "Owner": "Marcus Bell",
            "Budget": 90000,
            "Contribution (objective unit)": 0.02,
        }
    )
    kpis = [dict(row) for row in SAL_KPIS]
    kpis[1]["Owner"] = "Lee Chan"
    kpis.append(
        {
            "Initiative ID": "SAL-I03",
            "Level": "Team",
            "Team": "Channel",
            "Owner": "Marcus Bell",
            "KPI": "Active channel partners",
            "Unit": "count",
            "Baseline": 2,
            "Target": 10,
            "Frequency": "Quarterly",
        }
    )
    return initiatives, kpis


# ---- the command line ---------------------------------------------------------------------------------------


def _entry_point():
    """The installed ``cascadebook`` command's function (pyproject's [project.scripts]), whatever module holds it."""
    from importlib.metadata import entry_points

    found = [ep for ep in entry_points(group="console_scripts") if ep.name == "cascadebook"]
    if not found:
        raise RuntimeError("no `cascadebook` console script is installed: pip install -e '.[test]'")
    return found[0].load()


def _cli(run: CycleRun, step: str, args: list[str], expect: int | None = None) -> None:
    """Run ``cascadebook ARGS`` in-process, as the shell would, and keep its exit status and output."""
    main = _entry_point()
    env = {"CASCADEBOOK_KEY": None, "COLUMNS": "120", "LINES": "50", "NO_COLOR": "1", "FORCE_COLOR": None}
    env |= {"TTY_COMPATIBLE": None, "TERM": "dumb"}
    saved_argv = sys.argv
    code: Any = 0
    with CliRunner().isolation(env=env) as (out, err, _):
        sys.argv = ["cascadebook", *args]
        try:
            main()
        except SystemExit as exc:
            code = exc.code
        finally:
            sys.argv = saved_argv
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    code = 0 if code is None else code
    run.transcript.append({"step": step, "args": args, "exit_code": code, "stdout": stdout, "stderr": stderr})
    if expect is not None and code != expect:
        raise AssertionError(f"cascadebook {' '.join(args)} exited {code}, not {expect}:\n{stdout}\n{stderr}")


@contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def _template_paths(folder: str) -> dict[str, str]:
    """Department code -> workbook in ``folder``, from the file names ``generate``/``checkin`` chose."""
    found = {}
    for path in sorted(Path(folder).glob("*.xlsx")):
        match = re.match(r"FY2027_([A-Z]+)", path.name)
        assert match, f"unexpected workbook name {path}"
        found[match.group(1)] = str(path)
    return found


def _outputs(workdir: Path) -> list[str]:
    """Every file the commands wrote (not the strategy, the key or the workbooks the test filled)."""
    typed = ("returned", "returned2", "checkins_returned")
    return sorted(
        p.relative_to(workdir).as_posix()
        for p in workdir.rglob("*")
        if p.is_file() and p.parts[len(workdir.parts)] not in typed and p.name not in ("strategy.yaml", KEY_FILE_NAME)
    )


# ---- filling workbooks as a person does ---------------------------------------------------------------------


def _header_row(ws, first_header: str) -> tuple[int, dict[str, int]]:
    """The header row of an input sheet (the row whose first cell is ``first_header``) and header -> column.

    Required columns carry " *" after the header; a person reads past it, so does this."""
    for row in ws.iter_rows(min_row=1, max_row=15):
        if row and isinstance(row[0].value, str) and row[0].value.removesuffix(" *") == first_header:
            headers = {str(c.value).removesuffix(" *").strip(): c.column for c in row if c.value is not None}
            return row[0].row, headers
    raise AssertionError(f"no header row starting {first_header!r} on sheet {ws.title!r}")


def _fill_plan(template: str, target: str, initiatives: list[dict], kpis: list[dict], saved: datetime) -> None:
    """Type the initiatives and KPIs from the first data row down, beside the prefilled ids."""
    book = openpyxl.load_workbook(template)
    for title, first, rows in (("Initiatives", "Initiative ID", initiatives), ("KPIs", "KPI ID", kpis)):
        ws = book[title]
        header, columns = _header_row(ws, first)
        for r, values in enumerate(rows, header + 1):
            for name, value in values.items():
                ws.cell(row=r, column=columns[name], value=value)
    _save(book, target, saved)


def _fill_checkin(checkin: str, target: str, answers: dict[str, dict[str, Any]]) -> None:
    """Type each answer on the row whose prefilled id matches."""
    book = openpyxl.load_workbook(checkin)
    for title, first in (("Initiatives", "Initiative ID"), ("KPIs", "KPI ID")):
        ws = book[title]
        header, columns = _header_row(ws, first)
        for r in range(header + 1, ws.max_row + 1):
            typed = answers.get(ws.cell(row=r, column=1).value, {})
            for name, value in typed.items():
                ws.cell(row=r, column=columns[name], value=value)
    _save(book, target, SAVED["checkin"])


def _save(book, target: str, saved: datetime) -> None:
    """Save, then set the package's "last saved" time (openpyxl always stamps now; Excel stamps the save)."""
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    book.save(buffer)
    stamp = saved.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\g<2>", data
                )
            dst.writestr(info, data)


def _copy(source: str, target: str) -> None:
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
