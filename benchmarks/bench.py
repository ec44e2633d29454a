"""cascadebook benchmark: intake, reconcile, master and generate against their floors and a peer.

    python benchmarks/bench.py --n 200 --n 1000 [--n 10000] [--rounds 3] [--skip-peer-above 1000]
                               [--cases intake-j1,calamine] [--markdown] [--levels 4]

Every measurement runs in a fresh subprocess (this file with ``--worker``), so the peak memory of
one case never leaks into another: the worker does its setup (imports, loading the strategy or a
pickled reconcile result), notes its ``ru_maxrss``, times the operation, and reports the wall
time, its own peak RSS, the rise of that peak during the operation, and the peak RSS of the
largest process it forked (reconcile's reader pool). Times are the median of ``--rounds``.

Results go to benchmarks/results/bench-<stamp>.json (and latest.json); ``--markdown`` also prints
the table as markdown. See benchmarks/README.md for what each line measures.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import pickle
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import make_corpus  # noqa: E402

RESULTS = HERE / "results"
PEER_SHEETS = ("Initiatives", "KPIs")
READ_SHEETS = ("Initiatives", "KPIs", "_cascadebook")


@dataclass(frozen=True)
class Case:
    name: str
    label: str
    floor: str | None = None  # the case this one is compared with


CASES = [
    Case("calamine", "(a) bare python-calamine read of Initiatives, KPIs, _cascadebook"),
    Case("intake-j1", "(b) intake: reconcile() read+identify+validate, jobs=1", "calamine"),
    Case("intake-j2", "(b) intake: reconcile() read+identify+validate, jobs=2", "calamine"),
    Case("e2e-j1", "(c) CLI reconcile -q -j 1, end to end incl. master"),
    Case("e2e", "(c) CLI reconcile -q, end to end incl. master (jobs=cores)"),
    Case("peer", "(d) pandas peer: read_excel(openpyxl) + concat + to_excel"),
    Case("master-bare", "(e) bare xlsxwriter constant_memory, same cell values"),
    Case("master", "(e) write_master() alone", "master-bare"),
    Case("generate-bare", "(f) bare xlsxwriter in_memory: write_template's calls replayed"),
    Case("generate", "(f) cascadebook generate of N templates", "generate-bare"),
]
CASE_BY_NAME = {c.name: c for c in CASES}
TARGETS = [  # (numerator case, denominator case, kind, limit, text)
    ("intake-j1", "calamine", "max", 2.0, "intake <= 2x bare calamine"),
    ("master", "master-bare", "max", 1.5, "master writing <= 1.5x bare xlsxwriter constant_memory"),
    ("peer", "e2e", "min", 4.0, "reconcile end to end >= 4x faster than the pandas peer"),
    ("generate", "generate-bare", "max", 1.3, "generate <= 1.3x bare xlsxwriter"),
]
INFO_RATIOS = [
    ("intake-j2", "calamine", "intake jobs=2 vs bare calamine (one process)"),
    ("peer", "e2e-j1", "pandas peer vs reconcile -j 1"),
]


# -- the worker side: one case, one process ---------------------------------------------------


def _maxrss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # kilobytes on Linux


def _returns(corpus: Path) -> list[Path]:
    return sorted((corpus / "returns").glob("*.xlsx"))


def _strategy(corpus: Path):
    from cascadebook import load_key, load_strategy

    path = corpus / "strategy.yaml"
    return load_strategy(path), load_key(path)


def setup_calamine(corpus: Path, work: Path) -> Callable[[], dict]:
    from python_calamine import CalamineWorkbook

    files = _returns(corpus)

    def run() -> dict:
        rows = 0
        for path in files:
            book = CalamineWorkbook.from_path(str(path))
            try:
                for name in READ_SHEETS:
                    rows += len(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
            finally:
                book.close()
        return {"files": len(files), "sheet_rows": rows}

    return run


def _summary(result) -> dict:
    return {
        "sources": len(result.sources),
        "accepted": len(result.accepted()),
        "records": {k: len(v) for k, v in result.records.items()},
        "findings": dict(sorted(Counter(f.code for f in result.findings).items())),
    }


def _setup_intake(jobs: int):
    def setup(corpus: Path, work: Path) -> Callable[[], dict]:
        from cascadebook import reconcile

        strategy, key = _strategy(corpus)
        return lambda: _summary(reconcile(strategy, [corpus / "returns"], key=key, jobs=jobs))

    return setup


def _setup_cli(jobs: int | None):
    def setup(corpus: Path, work: Path) -> Callable[[], dict]:
        from cascadebook.cli import cli

        master = work / "e2e-master.xlsx"
        args = ["reconcile", str(corpus / "strategy.yaml"), str(corpus / "returns"), "-o", str(master), "-q"]
        if jobs:
            args += ["-j", str(jobs)]

        def run() -> dict:
            code = 0
            try:
                cli.main(args, prog_name="cascadebook", standalone_mode=False)
            except SystemExit as exc:
                code = exc.code or 0
            return {"exit_code": code, "master_bytes": master.stat().st_size, "jobs": jobs or os.cpu_count()}

        return run

    return setup


def setup_peer(corpus: Path, work: Path) -> Callable[[], dict]:
    import pandas as pd

    files = _returns(corpus)
    out = work / "peer.xlsx"

    def run() -> dict:
        frames: dict[str, list] = {name: [] for name in PEER_SHEETS}
        for path in files:
            sheets = pd.read_excel(path, sheet_name=list(PEER_SHEETS), header=3, engine="openpyxl")
            for name, frame in sheets.items():
                frame = frame.dropna(how="all", subset=list(frame.columns[1:]))  # the template's empty rows
                frame.insert(0, "Source file", path.name)
                frames[name].append(frame)
        counts = {}
        with pd.ExcelWriter(out) as writer:
            for name, parts in frames.items():
                table = pd.concat(parts, ignore_index=True)
                table.to_excel(writer, sheet_name=name, index=False)
                counts[name] = len(table)
        return {"rows": counts, "engine": "openpyxl read, " + pd.ExcelWriter(work / "x.xlsx").engine + " write"}

    return run


def setup_master(corpus: Path, work: Path) -> Callable[[], dict]:
    from cascadebook import write_master

    with (work / "result.pickle").open("rb") as handle:
        result = pickle.load(handle)
    out = work / "master.xlsx"
    return lambda: {"master_bytes": write_master(result, out).stat().st_size}


def setup_master_bare(corpus: Path, work: Path) -> Callable[[], dict]:
    import datetime as dt

    import xlsxwriter

    with (work / "master-values.pickle").open("rb") as handle:
        sheets: list[tuple[str, list[list[Any]]]] = pickle.load(handle)
    out = work / "master-bare.xlsx"

    def run() -> dict:
        book = xlsxwriter.Workbook(
            str(out),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        date_format = book.add_format({"num_format": "yyyy-mm-dd"})
        cells = 0
        for name, rows in sheets:
            ws = book.add_worksheet(name)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    if value is None or value == "":
                        continue
                    cells += 1
                    if isinstance(value, str):
                        ws.write_string(r, c, value)
                    elif isinstance(value, bool):
                        ws.write_boolean(r, c, value)
                    elif isinstance(value, (int, float)):
                        ws.write_number(r, c, value)
                    elif isinstance(value, (dt.datetime, dt.date)):
                        ws.write_datetime(r, c, value, date_format)
                    else:
                        ws.write_string(r, c, str(value))
        book.close()
        return {"cells": cells, "master_bytes": out.stat().st_size}

    return run


def setup_generate(corpus: Path, work: Path) -> Callable[[], dict]:
    from cascadebook import generate, load_spec

    strategy, key = _strategy(corpus)
    spec = load_spec("department")
    outbox = work / "generate"
    shutil.rmtree(outbox, ignore_errors=True)
    return lambda: {
        "templates": len(generate(strategy, outbox, spec=spec, key=key, generated_at=make_corpus.GENERATED_AT))
    }


def setup_generate_bare(corpus: Path, work: Path) -> Callable[[], dict]:
    from bare_template import bare_generate

    strategy, key = _strategy(corpus)
    outbox = work / "generate-bare"
    shutil.rmtree(outbox, ignore_errors=True)
    run = bare_generate(strategy, outbox, key, make_corpus.GENERATED_AT, scratch=work)
    return lambda: {"templates": run(), "replayed_calls_per_template": run.calls}


def prep_result(corpus: Path, work: Path) -> Callable[[], dict]:
    """Not timed: the reconcile result write_master is given, pickled so the master worker starts clean."""
    from cascadebook import reconcile

    strategy, key = _strategy(corpus)

    def run() -> dict:
        result = reconcile(strategy, [corpus / "returns"], key=key, jobs=os.cpu_count() or 1)
        with (work / "result.pickle").open("wb") as handle:
            pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
        return _summary(result)

    return run


def prep_master_values(corpus: Path, work: Path) -> Callable[[], dict]:
    """Not timed: every cell value of the master write_master wrote, for the bare writer."""
    from python_calamine import CalamineWorkbook

    def run() -> dict:
        book = CalamineWorkbook.from_path(str(work / "master.xlsx"))
        sheets = [(name, book.get_sheet_by_name(name).to_python(skip_empty_area=False)) for name in book.sheet_names]
        book.close()
        with (work / "master-values.pickle").open("wb") as handle:
            pickle.dump(sheets, handle, protocol=pickle.HIGHEST_PROTOCOL)
        return {"sheets": len(sheets)}

    return run


SETUPS: dict[str, Callable[[Path, Path], Callable[[], dict]]] = {
    "calamine": setup_calamine,
    "intake-j1": _setup_intake(1),
    "intake-j2": _setup_intake(2),
    "e2e-j1": _setup_cli(1),
    "e2e": _setup_cli(None),
    "peer": setup_peer,
    "master": setup_master,
    "master-bare": setup_master_bare,
    "generate": setup_generate,
    "generate-bare": setup_generate_bare,
    "prep-result": prep_result,
    "prep-master-values": prep_master_values,
}


def _cpu_s() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def worker(case: str, corpus: Path, work: Path, out: Path) -> None:
    run = SETUPS[case](corpus, work)
    gc.collect()
    base = _maxrss_mb()
    cpu = _cpu_s()
    started = time.perf_counter()
    extra = run()
    seconds = time.perf_counter() - started
    cpu = _cpu_s() - cpu
    peak = _maxrss_mb()
    out.write_text(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_s": cpu,
                "peak_mb": peak,
                "delta_mb": max(peak - base, 0.0),
                "base_mb": base,
                "workers_mb": _maxrss_mb(resource.RUSAGE_CHILDREN),
                "extra": extra,
            },
            default=str,
        )
    )


# -- the parent side ----------------------------------------------------------------------------


def run_case(case: str, corpus: Path, work: Path, timeout: float | None = None) -> dict:
    with tempfile.NamedTemporaryFile("r", suffix=".json", dir=work, delete=False) as handle:
        out = Path(handle.name)
    try:
        proc = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--worker",
                case,
                "--corpus",
                str(corpus),
                "--work",
                str(work),
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"case {case} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


def summarise(case: str, samples: list[dict]) -> dict:
    return {
        "label": CASE_BY_NAME[case].label,
        "rounds": len(samples),
        "seconds": statistics.median(s["seconds"] for s in samples),
        "seconds_all": [round(s["seconds"], 3) for s in samples],
        "cpu_s": statistics.median(s["cpu_s"] for s in samples),
        "peak_mb": statistics.median(s["peak_mb"] for s in samples),
        "delta_mb": statistics.median(s["delta_mb"] for s in samples),
        "workers_mb": statistics.median(s["workers_mb"] for s in samples),
        "extra": samples[-1]["extra"],
    }


def execution_order(wanted: list[str]) -> list[str]:
    """Display order, except that master-bare needs a master written by write_master first."""
    order = [c.name for c in CASES if c.name in wanted]
    if "master-bare" in order and "master" in order:
        order.remove("master-bare")
        order.insert(order.index("master") + 1, "master-bare")
    return order


def parity(work: Path, n: int) -> dict:
    """Whether the bare replay wrote, byte for byte, the template generate wrote (a department that was
    not the recorded one when there are two)."""
    code = make_corpus.department_code(2 if n >= 2 else 1)
    name = f"{make_corpus.CYCLE}_{code}.xlsx"

    def parts(path: Path) -> dict[str, bytes]:
        with zipfile.ZipFile(path) as z:
            return {info.filename: z.read(info) for info in z.infolist()}

    try:
        a, b = parts(work / "generate" / name), parts(work / "generate-bare" / name)
    except FileNotFoundError:
        return {"checked": False}
    differ = sorted(p for p in set(a) | set(b) if a.get(p) != b.get(p))
    return {
        "checked": True,
        "department": code,
        "same_shape": not differ,
        "parts": len(a),
        "differing_parts": differ,
        "bytes": sum(map(len, a.values())),
    }


def machine() -> dict:
    from importlib import metadata

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    mem = ""
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
        kb = int(next(line for line in lines if line.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    versions = {}
    for dist in ("cascadebook", "python-calamine", "xlsxwriter", "openpyxl", "pandas", "PyYAML"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    import cascadebook

    source = str(Path(cascadebook.__file__).resolve().parent)
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src", "workbook_templates"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split("\n")
    except OSError:
        commit, dirty = "", []
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "loadavg_at_start": list(os.getloadavg()),
        "platform": platform.platform(),
        "versions": versions,
        "commit": commit,
        "cascadebook_source": source,
        "repo_src_uncommitted": [line[3:] for line in dirty if line.strip()],
        "date": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    }


def ratios(runs: dict[str, dict[str, dict]]) -> list[dict]:
    out = []
    for n, cases in runs.items():

        def s(name, what="seconds", cases=cases):
            return cases.get(name, {}).get(what)

        def cpu(num, den):
            return round(s(num, "cpu_s") / s(den, "cpu_s"), 2) if s(num, "cpu_s") and s(den, "cpu_s") else None

        for num, den, kind, limit, text in TARGETS:
            if s(num) and s(den):
                value = s(num) / s(den)
                ok = value <= limit if kind == "max" else value >= limit
                out.append(
                    {
                        "n": int(n),
                        "what": text,
                        "numerator": num,
                        "denominator": den,
                        "ratio": round(value, 2),
                        "cpu_ratio": cpu(num, den),
                        "target": f"{'<=' if kind == 'max' else '>='} {limit}",
                        "met": ok,
                    }
                )
        for num, den, text in INFO_RATIOS:
            if s(num) and s(den):
                out.append(
                    {
                        "n": int(n),
                        "what": text,
                        "numerator": num,
                        "denominator": den,
                        "ratio": round(s(num) / s(den), 2),
                        "cpu_ratio": cpu(num, den),
                        "target": "",
                        "met": None,
                    }
                )
        if "master" in cases and "master-bare" in cases and cases["master-bare"]["delta_mb"]:
            out.append(
                {
                    "n": int(n),
                    "what": "master writing peak-memory rise vs bare constant_memory",
                    "numerator": "master",
                    "denominator": "master-bare",
                    "ratio": round(cases["master"]["delta_mb"] / max(cases["master-bare"]["delta_mb"], 0.1), 1),
                    "target": "",
                    "met": None,
                }
            )
    ns = sorted(int(n) for n in runs)
    for small, big in itertools.pairwise(ns):
        factor = big / small
        for case in ("e2e", "intake-j1"):
            a, b = runs[str(small)].get(case), runs[str(big)].get(case)
            if not (a and b):
                continue
            t = b["seconds"] / a["seconds"]
            m = b["peak_mb"] / a["peak_mb"]
            out.append(
                {
                    "n": big,
                    "what": f"{case} time N={big} vs N={small} (x{factor:g} files)",
                    "numerator": f"{case}@{big}",
                    "denominator": f"{case}@{small}",
                    "ratio": round(t, 2),
                    "cpu_ratio": round(b["cpu_s"] / a["cpu_s"], 2) if a["cpu_s"] else None,
                    "target": f"<= {1.1 * factor:g}",
                    "met": t <= 1.1 * factor,
                }
            )
            # The memory target is for 10,000 against 1,000 (where reconcile packs its rows,
            # see consolidate/packed.py); below PACK_ABOVE records are objects and memory grows with N on purpose.
            judged = small >= 1000
            out.append(
                {
                    "n": big,
                    "what": f"{case} peak memory N={big} vs N={small}",
                    "numerator": f"{case}@{big}",
                    "denominator": f"{case}@{small}",
                    "ratio": round(m, 2),
                    "target": "<= 2" if judged else "",
                    "met": m <= 2 if judged else None,
                }
            )
    return out


def _fmt_row(cells: list[str], widths: list[int], left: int) -> str:
    return "  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))


def table_rows(report: dict) -> tuple[list[str], list[list[str]], list[str], list[list[str]]]:
    head = ["N", "case", "what", "seconds", "cpu s", "peak MB", "+MB in op", "workers MB"]
    rows = []
    for n, cases in report["runs"].items():
        for case in CASES:
            if case.name in cases:
                c = cases[case.name]
                rows.append(
                    [
                        n,
                        case.name,
                        c["label"],
                        f"{c['seconds']:.2f}",
                        f"{c['cpu_s']:.2f}",
                        f"{c['peak_mb']:.0f}",
                        f"{c['delta_mb']:.0f}",
                        f"{c['workers_mb']:.0f}" if c["workers_mb"] > 1 else "-",
                    ]
                )
    rhead = ["N", "ratio", "value", "cpu", "target", "met"]
    rrows = [
        [
            str(r["n"]),
            r["what"],
            f"{r['ratio']:g}",
            "" if r.get("cpu_ratio") is None else f"{r['cpu_ratio']:g}",
            r["target"] or "(info)",
            "" if r["met"] is None else ("yes" if r["met"] else "NO"),
        ]
        for r in report["ratios"]
    ]
    return head, rows, rhead, rrows


def print_table(report: dict) -> None:
    head, rows, rhead, rrows = table_rows(report)
    for h, body, left in ((head, rows, 3), (rhead, rrows, 2)):
        widths = [max(len(str(x)) for x in col) for col in zip(h, *body)] if body else [len(x) for x in h]
        print(_fmt_row(h, widths, left))
        for row in body:
            print(_fmt_row(row, widths, left))
        print()


def markdown(report: dict) -> str:
    head, rows, rhead, rrows = table_rows(report)
    lines = []
    for h, body, left in ((head, rows, 3), (rhead, rrows, 2)):
        lines.append("| " + " | ".join(h) + " |")
        lines.append("|" + "|".join("---" if i < left else "---:" for i in range(len(h))) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in body]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, action="append", help="corpus size (repeatable) [default: 200]")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--skip-peer-above",
        type=int,
        default=None,
        metavar="N",
        help="skip the (slow) pandas peer for corpora larger than N",
    )
    parser.add_argument("--cases", default=None, help="comma-separated subset of: " + ", ".join(SETUPS))
    parser.add_argument("--corpus-root", type=Path, default=make_corpus.CORPUS_ROOT)
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON results")
    parser.add_argument("--jobs", type=int, default=None, help="processes building the corpus")
    parser.add_argument(
        "--levels", type=int, default=1, help="corpora of units over this many levels of an org tree [1: flat]"
    )
    parser.add_argument("--markdown", action="store_true", help="also print the tables as markdown")
    parser.add_argument("--keep-work", action="store_true", help="keep the scratch folder (masters, templates)")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.corpus, args.work, args.out)
        return {}

    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    wanted = [c.name for c in CASES] if not args.cases else [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(wanted) - set(CASE_BY_NAME)
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    report: dict[str, Any] = {"machine": machine(), "rounds": args.rounds, "corpora": {}, "runs": {}, "checks": {}}
    report["levels"] = args.levels
    started = time.perf_counter()
    sizes = args.n or [200]
    plans: dict[int, dict[str, Any]] = {}  # per N: corpus, scratch folder, cases in order, samples
    try:
        for n in sizes:
            tree = {"levels": args.levels} if args.levels > 1 else {}  # a flat run calls make_corpus as before
            corpus = make_corpus.make_corpus(n, jobs=args.jobs, root=args.corpus_root, log=log, **tree)
            report["corpora"][str(n)] = make_corpus.read_manifest(corpus)
            work = Path(tempfile.mkdtemp(prefix=f"bench-{n}-"))
            plans[n] = {"corpus": corpus, "work": work}
            log(f"N={n}: {corpus}")
            order = execution_order(wanted)
            if "peer" in order and args.skip_peer_above is not None and n > args.skip_peer_above:
                log(f"    peer           skipped (N > {args.skip_peer_above})")
                order.remove("peer")
            if "master" in order or "master-bare" in order:  # untimed: the result write_master is given
                prep = run_case("prep-result", corpus, work)
                report["checks"].setdefault(str(n), {})["reconcile"] = prep["extra"]
            if "master-bare" in order and "master" not in order:
                run_case("master", corpus, work)
            plans[n].update(order=order, samples={case: [] for case in order})
        # Rounds are interleaved (every case of every N once, then again) so that a busy spell on a
        # shared machine spreads over all cases and sizes instead of landing on one: the scaling
        # ratios compare sizes measured side by side.
        for i in range(args.rounds):
            for n in sizes:
                plan = plans[n]
                for case in plan["order"]:
                    if case == "master-bare" and i == 0:
                        run_case("prep-master-values", plan["corpus"], plan["work"])
                    sample = run_case(case, plan["corpus"], plan["work"])
                    plan["samples"][case].append(sample)
                    log(
                        f"    N={n:<6} {case:14} round {i + 1}/{args.rounds}: {sample['seconds']:8.2f} s "
                        f"(cpu {sample['cpu_s']:7.2f} s)  peak {sample['peak_mb']:7.1f} MB  "
                        f"(+{sample['delta_mb']:.1f} MB during the operation)"
                    )
        for n in sizes:
            plan, cases = plans[n], {}
            report["runs"][str(n)] = cases
            for case in (c.name for c in CASES):
                if plan["samples"].get(case):
                    cases[case] = summarise(case, plan["samples"][case])
            if "generate" in cases and "generate-bare" in cases:
                report["checks"].setdefault(str(n), {})["generate_parity"] = parity(plan["work"], n)
    finally:
        for plan in plans.values():
            if args.keep_work:
                log(f"    scratch kept in {plan['work']}")
            else:
                shutil.rmtree(plan["work"], ignore_errors=True)
    report["ratios"] = ratios(report["runs"])
    report["machine"]["loadavg_at_end"] = list(os.getloadavg())
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    args.results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(report, indent=2, default=str) + "\n"
    (args.results / f"bench-{stamp}.json").write_text(text)
    (args.results / "latest.json").write_text(text)
    m = report["machine"]
    print(
        f"cascadebook benchmark  {m['date']}  commit {m['commit']}  {m['nproc']} x {m['cpu']}  python {m['python']}"
        f"  rounds {args.rounds} (median)"
    )
    print_table(report)
    for n, checks in report["checks"].items():
        par = checks.get("generate_parity")
        if par and par.get("checked"):
            print(
                f"N={n}: the bare replay wrote {par['department']}'s template byte for byte as generate did: "
                f"{'yes' if par['same_shape'] else 'NO, parts differ: ' + ', '.join(par['differing_parts'])}"
            )
    if args.markdown:
        print(markdown(report))
    log(f"results: {args.results / f'bench-{stamp}.json'} ({report['total_seconds']} s)")
    return report


if __name__ == "__main__":
    main()
