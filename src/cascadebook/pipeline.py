"""The top floor: inputs (files, folders, archives, mail) -> intake -> consolidation, as one call.

``reconcile`` expands the inputs (``inbox``), reads, identifies and validates each workbook on its own
(``intake``; a pure function per file, so it runs in a process pool and is merged back in input
order: the result is the same whatever the number of jobs), then consolidates the accepted ones
(``consolidate``): newest wins, the alignment matrix, commitments, coverage and check-in progress.
The CLI's ``reconcile``, ``status`` and ``feedback`` all call it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cascadebook.atomic import atomic_path
from cascadebook.consolidate.checkins import validate_checkin
from cascadebook.consolidate.gc_tuning import long_lived
from cascadebook.consolidate.packed import RecordList
from cascadebook.consolidate.reconcile import Reconciliation, consolidate, record_totals
from cascadebook.findings import Finding
from cascadebook.inbox.sources import Input, expand_inputs
from cascadebook.intake.dispatch import columns_outside, is_checkin, read_any, spec_of
from cascadebook.intake.identity import identify
from cascadebook.intake.reader import Return
from cascadebook.intake.validate import validate_records
from cascadebook.kinds import WORKBOOK_SUFFIXES
from cascadebook.master.decisions_read import ReviewDamaged, ReviewRead, read_decisions
from cascadebook.master.read import MasterError
from cascadebook.master.review import CarriedReview, carry_decisions, decisions_missing
from cascadebook.master.write import write_master
from cascadebook.model import Strategy
from cascadebook.spec.schema import Spec, resolve_spec, spec_candidates

ProgressCallback = Callable[[int, int, str], None]  # (done, total, file): drives a progress bar
PACK_ABOVE = 2_000  # workbooks; below it rows stay plain objects (fastest), above it they are packed


@dataclass(frozen=True)
class _Intake:
    """Everything done to one file on its own — read, identify, validate — so it runs in a worker;
    plans and check-ins alike (a check-in by the same rules, see consolidate/checkins.py).

    A workbook later superseded by a newer one was validated for nothing; that is cheaper than a
    second, serial pass over the accepted ones.
    """

    spec: Spec
    strategy: Strategy
    key: bytes | None
    pack: bool = False  # many files: hand each department's rows back packed (see consolidate/packed.py)
    specs: tuple[Spec, ...] = ()  # other specs a return may be signed with (spec.spec_candidates)

    def __call__(self, item: Input) -> Return:
        ret = read_any(item.path, self.spec, item.name, self.specs)
        ret.origin = item.origin  # the message it came in travels with it (to the parent process too)
        identify(ret, self.strategy, self.key)
        if ret.status == "accepted" and is_checkin(ret):
            validate_checkin(self.strategy, ret)  # the same rules, as a check-in is checked
        elif ret.status == "accepted":
            own = spec_of(ret, self.spec, self.specs)  # the spec the department's template was made with
            ret.records, ret.row_findings = validate_records(self.strategy, own, ret.records, ret.department)
            if own is not self.spec:
                ret.row_findings.extend(columns_outside(ret, own, self.spec))
            ret.validated = True
            ret.totals = record_totals(ret.records, own)
            if self.pack:
                ret.records = {k: RecordList(rows).packed() for k, rows in ret.records.items()}
        return ret


def _read_all(files: list[Input], intake: _Intake, jobs: int, progress: ProgressCallback | None) -> list[Return]:
    total = len(files)
    if jobs <= 1 or total < 4:
        results = []
        for i, item in enumerate(files, 1):
            results.append(intake(item))
            if progress:
                progress(i, total, item.name)
        return results
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        results = []
        chunk = max(1, min(64, total // (jobs * 8)))
        for i, ret in enumerate(pool.map(intake, files, chunksize=chunk), 1):
            results.append(ret)
            if progress:
                progress(i, total, ret.file)
        return results


def reconcile(
    strategy: Strategy,
    inputs: Iterable[str | Path | Input],
    *,
    spec: Spec | None = None,
    key: bytes | None = None,
    jobs: int | None = None,
    progress: ProgressCallback | None = None,
    pack_above: int | None = None,
    specs: Sequence[Spec] | None = None,
) -> Reconciliation:
    """Read, identify, validate and consolidate every returned workbook under ``inputs``.

    With more than ``pack_above`` workbooks (default :data:`PACK_ABOVE`) each department's rows are
    kept packed (compressed) and decoded as they are used: memory then grows by a tenth of what the
    rows take as Python objects, for a few percent more time.

    A return signed with another spec than ``spec`` is read and validated with that spec when it is
    among ``specs`` (default: :func:`~cascadebook.spec.schema.spec_candidates`, the specs beside the
    strategy and the bundled one), and refused (``spec-mismatch``) when it is not.
    """
    spec = spec or resolve_spec(None, strategy)  # the strategy's own: its spec:, else department.yaml beside it
    specs = tuple(spec_candidates(spec, strategy.source or None) if specs is None else specs)
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    files, skipped = [], []
    for item in expand_inputs(list(inputs)):
        if item.path.name.startswith(("~$", ".~lock")) or item.path.suffix.lower() not in WORKBOOK_SUFFIXES:
            skipped.append(
                Return(
                    path=str(item.path),
                    file=item.name,
                    status="skipped",
                    reason="not a workbook",
                    findings=[Finding("skipped-file", "not a workbook (or an editor's lock file)", file=item.name)],
                    origin=item.origin,
                )
            )
        else:
            files.append(item)
    pack = len(files) > (PACK_ABOVE if pack_above is None else pack_above)
    sources = _read_all(files, _Intake(spec, strategy, key, pack, specs), jobs, progress)
    with long_lived():  # what was read is kept; consolidating it makes 400,000 allocations and more
        return consolidate(strategy, spec, sources, skipped)


def check_file(
    strategy: Strategy,
    item: Input,
    *,
    spec: Spec | None = None,
    key: bytes | None = None,
    specs: Sequence[Spec] | None = None,
) -> tuple[Return, list[Finding]]:
    """One workbook checked on its own, as :func:`reconcile` checks it (the same ``_Intake`` and
    consolidation), and the findings reconcile reports for that file: what the intake portal shows the
    moment a department uploads. Findings across files (superseded, coverage of the other departments)
    are left to a reconcile of them all."""
    spec = spec or resolve_spec(None, strategy)
    specs = tuple(spec_candidates(spec, strategy.source or None) if specs is None else specs)
    ret = _Intake(spec, strategy, key, False, specs)(item)
    result = consolidate(strategy, spec, [ret], [])
    return ret, [f for f in result.findings if f.file == item.name]


# ---- the master, with finance's decisions carried over ---------------------------------------------


class DecisionsNotInReviewFrom(MasterError):
    """``reconcile --review-from OLD -o MASTER`` where MASTER holds decisions OLD has not (or not the
    same): writing would replace them with OLD's, so nothing is written."""


def previous_decisions(master: str | Path, spec: Spec, review_from: str | Path | None = None) -> ReviewRead | None:
    """Finance's decisions to carry into a new ``master``: those of ``review_from``, else of the master
    already at ``master`` (None when there is none). Read before the returns, so that a master whose
    review columns are damaged stops the run before anything is written: raises
    :class:`~cascadebook.master.decisions_read.ReviewDamaged`, and ``MasterError`` for a ``review_from``
    that is not a master. A file at ``master`` that is not a master has nothing to carry (it is kept as
    ``<stem>.previous.xlsx`` when replaced).

    With ``review_from``, the master at ``master`` is read too, and a decision there that
    ``review_from`` has not with the same values raises :class:`DecisionsNotInReviewFrom`: no decision
    typed into a master is lost by replacing it (its ``.previous.xlsx`` backup is overwritten by the
    next run)."""
    source = Path(review_from if review_from is not None else master)
    if review_from is None and not source.is_file():
        return None
    try:
        read = read_decisions(source, spec)
    except ReviewDamaged:
        raise
    except MasterError:
        if review_from is not None:
            raise
        return None
    if review_from is not None and Path(master).is_file() and not _same_file(master, review_from):
        _refuse_lost(master, read, spec)
    return read


def _same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _refuse_lost(master: str | Path, source: ReviewRead, spec: Spec) -> None:
    """Raise :class:`DecisionsNotInReviewFrom` when the master about to be replaced holds a decision
    (on an initiative or on its orphans sheet) that ``source`` has not with the same values; a master
    with damaged review columns is refused as such (:class:`ReviewDamaged`)."""
    try:
        here = read_decisions(master, spec)
    except ReviewDamaged:
        raise
    except MasterError:  # not a master: no decisions (it is kept as <stem>.previous.xlsx)
        return
    lost = decisions_missing(here, source)
    if lost:
        first = lost[0]
        name, other = Path(master).name, Path(source.path).name
        more = f" and {len(lost) - 1} more" if len(lost) > 1 else ""
        raise DecisionsNotInReviewFrom(
            f"{name} holds decisions that {other} has not ({first.department} {first.initiative_id or '(no id)'} "
            f"at {first.where}{more}), which replacing it would lose; pass --review-from {name} (or leave "
            f"--review-from out) to carry them, or move {name} away first"
        )


def previous_path(master: str | Path) -> Path:
    """Where the master a run replaces is kept: ``master.previous.xlsx`` beside ``master.xlsx``."""
    master = Path(master)
    return master.with_name(f"{master.stem}.previous{master.suffix}")


def write_reviewed_master(
    result: Reconciliation, master: str | Path, previous: ReviewRead | None = None
) -> CarriedReview | None:
    """Write ``master`` with the decisions of ``previous`` (:func:`previous_decisions`) carried onto the
    same initiatives (master/review.py; their findings are added to ``result.findings``), keeping the
    master it replaces as ``<stem>.previous.xlsx`` (its bytes, overwriting the last run's). Both files
    are written atomically, the backup first: alone, it is in place before the new master is written;
    inside ``atomic.all_or_nothing`` it is renamed into place before the master (the batch renames in
    the order written) and both appear together with the other outputs, or neither."""
    master = Path(master)
    carried = carry_decisions(previous, result, into=master) if previous is not None else None
    if master.is_file():
        with atomic_path(previous_path(master)) as tmp:
            shutil.copyfile(master, tmp)
    write_master(result, master, review=carried)
    return carried
