"""Load on the intake portal: N departments upload their filled workbook at the same moment (issue 21).

    python benchmarks/portal_load.py                 # 200 uploads at once, SQLite, `serve --workers` = cores
    python benchmarks/portal_load.py --n 50 --database postgresql://user:pass@127.0.0.1/db

It builds (or reuses) the benchmark corpus of N returns (make_corpus.py: ~120 rows each), saves each
once more with openpyxl as a person's Excel would (~120 KB), starts `cascadebook serve` on a free
loopback port in a fresh cycle folder, and lets N threads each open their department's page (its CSRF
cookie and token) and upload at the same instant. Time to findings is from sending the upload to having
the page with the findings (the 303 and the page it points to). Then it checks that nothing was lost:
N rows, N files, each the bytes that were sent. A benchmark, not a test: nothing here is asserted on time.
"""

from __future__ import annotations

import argparse
import hashlib
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_corpus import make_corpus  # noqa: E402


def _resaved(corpus: Path, n: int) -> list[Path]:
    """Each return saved once more by openpyxl (the size a workbook saved by a spreadsheet has)."""
    import openpyxl

    folder = corpus / "portal-uploads"
    sources = sorted((corpus / "returns").glob("*.xlsx"))[:n]
    out = []
    for source in sources:
        target = folder / source.name
        if not target.is_file():
            folder.mkdir(exist_ok=True)
            openpyxl.load_workbook(source).save(target)
        out.append(target)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _multipart(csrf: str, path: Path) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="workbook"; filename="{path.name}"\r\n'
            "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n"
        ).encode()
        + path.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _one(link: str, path: Path, start: threading.Barrier) -> dict:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(link, timeout=300).read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    body, content_type = _multipart(csrf, path)
    start.wait()
    began = time.perf_counter()
    try:
        response = opener.open(
            urllib.request.Request(f"{link}/upload", data=body, headers={"Content-Type": content_type}), timeout=600
        )
        status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode(errors="replace")
    seconds = time.perf_counter() - began
    return {
        "file": path.name,
        "status": status,
        "seconds": seconds,
        "shown": 'id="verdict"' in text,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }


def run(n: int, database: str | None, workers: int) -> dict:
    from cascadebook import load_strategy
    from cascadebook.portal.store import Store
    from cascadebook.portal.tokens import department_token

    load_before = [round(x, 2) for x in os.getloadavg()]
    corpus = make_corpus(n)
    files = _resaved(corpus, n)
    cycle = Path(tempfile.mkdtemp(prefix="portal-load-"))
    text = (corpus / "strategy.yaml").read_text(encoding="utf-8")
    (cycle / "strategy.yaml").write_text(text + "\ncloses_at: 2099-12-31\n", encoding="utf-8")
    shutil.copyfile(corpus / ".cascadebook-key", cycle / ".cascadebook-key")
    strategy = load_strategy(cycle / "strategy.yaml")
    key = (cycle / ".cascadebook-key").read_text().strip().encode()
    port = _free_port()
    command = [sys.executable, "-c", "from cascadebook.cli import main; main()", "serve", str(cycle)]
    command += ["--port", str(port), "--workers", str(workers)] + (["--database", database] if database else [])
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        by_code = {d.code: d for d in strategy.departments}
        jobs = []
        for path in files:
            code = path.stem.rsplit("_", 1)[-1]
            jobs.append((f"{base}/d/{code}/{department_token(key, strategy.cycle, by_code[code].code)}", path))
        barrier = threading.Barrier(len(jobs))
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            results = list(pool.map(lambda job: _one(*job, barrier), jobs))
        wall = time.perf_counter() - began
    finally:
        server.terminate()
        server.wait(timeout=60)
    store = Store(cycle, database)
    rows = store.uploads(strategy.cycle)
    stored = {u.sha256 for u in rows if store.path_of(u.sha256, u.suffix).is_file()}
    sent = {r["sha256"] for r in results}
    times = sorted(r["seconds"] for r in results)
    report = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "n": n,
        "database": "postgresql" if database else "sqlite",
        "workers": workers,
        "cores": os.cpu_count(),
        "load_average_before": load_before,
        "mean_upload_kb": round(statistics.mean(p.stat().st_size for p in files) / 1024, 1),
        "ok_responses": sum(1 for r in results if r["status"] == 200 and r["shown"]),
        "rows": len(rows),
        "files_matching_what_was_sent": len(stored & sent),
        "lost": len(sent - stored),
        "p50_s": round(statistics.median(times), 2),
        "p95_s": round(times[max(0, int(len(times) * 0.95) - 1)], 2),
        "max_s": round(times[-1], 2),
        "wall_s": round(wall, 2),
        "uploads_per_s": round(n / wall, 1),
    }
    store.dispose()
    shutil.rmtree(cycle, ignore_errors=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200, help="departments uploading at once [default: 200]")
    parser.add_argument("--database", default=None, help="a PostgreSQL URL [default: SQLite in the cycle folder]")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="serve --workers [default: cores]")
    args = parser.parse_args()
    report = run(args.n, args.database, args.workers)
    print(json.dumps(report, indent=2))
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (results / f"portal-load-{stamp}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
