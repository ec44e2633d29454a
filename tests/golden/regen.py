"""Regenerate the golden files from the current code: ``python tests/golden/regen.py``.

Runs the golden cycle (cycle.py) in a temporary folder through the ``cascadebook`` command, dumps and
normalises every output (dump.py) and rewrites tests/golden/expected/ (stale files removed). Run it
only when a change of the outputs is meant, and name the change in tests/test_golden.py's ALLOWED_CHANGES
or in the commit that carries the new golden files.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, where pytest finds its helpers too

from golden.cycle import EXPECTED, run_cycle
from golden.dump import dump_run, write_expected


def main() -> int:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cascadebook-golden-") as tmp:
        run = run_cycle(Path(tmp) / "cycle")
        written = write_expected(dump_run(run), EXPECTED)
    root = EXPECTED.parents[2]
    for path in written:
        print(f"wrote {path.relative_to(root)}")
    print(f"{len(written)} golden file(s) in {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
