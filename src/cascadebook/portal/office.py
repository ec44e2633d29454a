"""The strategy office's view: the status board, findings across departments, the master, reminders.

All of it comes from one ``reconcile`` of every stored upload (``Store.inputs``: each with its upload
time as received time, so newest wins as in the CLI), through ``mail.status.department_status``, the
code behind ``cascadebook status``. The result is cached by the set of uploads (ids, hashes, times):
a board refresh with no new upload reads nothing again, and the master of a set is written once.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, cast

from cascadebook.consolidate.reconcile import Reconciliation
from cascadebook.findings import Finding
from cascadebook.mail.compose import mail_settings
from cascadebook.mail.status import StatusReport, department_status, write_reminders
from cascadebook.master.write import write_master
from cascadebook.model import Strategy
from cascadebook.org import OrgTree
from cascadebook.portal.store import Store
from cascadebook.spec.schema import Spec


@dataclass
class Board:
    """One reconcile of the stored uploads, and what the office page shows of it."""

    key: str  # the sha256 of the input set, and the day
    report: StatusReport
    levels: dict[str, int]
    across: list[Finding] = field(default_factory=list)  # findings no single upload's page shows

    def by_level(self) -> list[tuple[int, dict[str, int]]]:
        """Per cascade level: departments, returned, with errors, missing, late."""
        out: dict[int, dict[str, int]] = {}
        for row in self.report.departments:
            level = out.setdefault(
                self.levels.get(row.code, 1), dict.fromkeys(("units", "returned", "errors", "missing", "late"), 0)
            )
            level["units"] += 1
            level["returned"] += not row.missing
            level["errors"] += row.state == "returned with errors"
            level["missing"] += row.missing
            level["late"] += row.late
        return sorted(out.items())


class Office:
    """The office's board, master and reminders for one cycle, cached by the set of uploads."""

    def __init__(
        self,
        strategy: Strategy,
        strategy_path: Path,
        spec: Spec,
        key: bytes | None,
        store: Store,
        clock: Callable[[], date] = date.today,
    ) -> None:
        self.strategy, self.strategy_path, self.spec, self.key, self.store = strategy, strategy_path, spec, key, store
        self.clock = clock  # the portal's today: late or not, as of then
        self.levels = _levels(strategy)
        self._lock = threading.Lock()
        self._board: Board | None = None

    def input_key(self) -> str:
        rows = [(u.id, u.sha256, u.uploaded_at) for u in self.store.uploads(self.strategy.cycle)]
        return hashlib.sha256(json.dumps(rows).encode()).hexdigest()

    def board(self) -> Board:
        """The reconcile of every stored upload as of today (cached while the uploads and the day are the same)."""
        today = self.clock()
        key = f"{self.input_key()}-{today.isoformat()}"
        with self._lock:
            if self._board is not None and self._board.key == key:
                return self._board
            inputs: list[Any] = list(self.store.inputs(self.strategy.cycle))  # Inputs, as reconcile takes them
            report = department_status(self.strategy, inputs, spec=self.spec, key=self.key, today=today, jobs=1)
            result = cast(Reconciliation, report.result)
            # the upload pages show each file's own findings; here those no single page shows
            across = [f for f in result.findings if not f.file or f.code == "superseded-submission"]
            self._board = Board(key, report, self.levels, across)
            return self._board

    def master(self) -> Path:
        """The master workbook of the current uploads, written once per input set."""
        board = self.board()
        path = self.store.root / "masters" / f"{self.strategy.cycle}_master_{board.key[:16]}.xlsx"
        with self._lock:
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                write_master(cast(Reconciliation, board.report.result), path)  # atomically (master/write.py)
        return path

    def reminders(self) -> dict[str, Path]:
        """A reminder draft (.eml, the `status --remind` text) per department without a usable upload."""
        board = self.board()
        folder = self.store.root / "reminders" / board.key[:16]
        if not folder.is_dir():
            settings = mail_settings(self.strategy, self.strategy_path)
            staging = folder.with_name(folder.name + ".tmp")
            staging.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_reminders(board.report, self.strategy, staging, settings, spec=self.spec, key=self.key)
            staging.replace(folder)
        by_code = {}
        for path in sorted(folder.glob("*.eml")):
            code = path.stem.rsplit("_", 1)[-1].removesuffix(" reminder")
            by_code[code] = path
        return by_code


def _levels(strategy: Strategy) -> dict[str, int]:
    tree = OrgTree.of(strategy.departments)
    levels = {}
    for dep in strategy.departments:
        try:
            levels[dep.code] = tree.level(dep.code)
        except KeyError:
            levels[dep.code] = 1
    return levels
