"""Atomic output: write beside the target, then rename, so a crash never leaves half a file.

``check_writable`` / ``check_folder`` look at outputs before the slow work, so a master still open
in Excel is reported before two hundred workbooks are read. ``all_or_nothing`` makes several
outputs one transaction: every ``atomic_path`` inside it writes its temporary file, and the
renames happen only when all of them were produced; if one cannot be put in place, the others are
put back as they were, so a new master never sits beside an old report. A failure is an
``OutputError`` whose message is one line: what, where, and what to do.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path


class OutputError(OSError):
    """An output cannot be written; ``str()`` is one line saying what, where and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _failure(target: Path, exc: OSError) -> OutputError:
    """The one-line explanation of why ``target`` could not be written."""
    if isinstance(exc, OutputError):
        return exc
    if target.is_dir():
        return OutputError(f"cannot write {target}: it is a folder; give a file name")
    blocker = _first_existing(target.parent)
    if not blocker.is_dir():
        return OutputError(f"cannot write {target}: {blocker} is a file, not a folder; choose another place")
    if isinstance(exc, PermissionError) and target.exists():
        return OutputError(
            f"cannot replace {target}: it is open in another program or read-only ({_reason(exc)}); "
            "close it in Excel (or make it writable) and run again"
        )
    return OutputError(
        f"cannot write {target} ({_reason(exc)}); choose a folder you can write to, "
        "or close the file if it is open in Excel"
    )


def _first_existing(folder: Path) -> Path:
    folder = Path(os.path.abspath(folder))
    while not os.path.lexists(folder) and folder.parent != folder:
        folder = folder.parent
    return folder


def _probe(folder: Path, target: Path) -> None:
    """Create and delete a file in ``folder``: the only sure test that outputs can be made there."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".cascadebook-probe.", dir=folder)
    except OSError as exc:
        raise OutputError(
            f"cannot write into the folder {folder} ({_reason(exc)}); choose a folder you can "
            f"write to for {target.name}"
        ) from None
    os.close(fd)
    os.unlink(tmp)


def check_folder(folder: str | Path) -> None:
    """Raise ``OutputError`` unless ``folder`` is a folder that exists and takes files, or can be made."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"cannot write into {folder}: it is a file, not a folder; give a folder name")
    existing = _first_existing(folder)
    if not existing.is_dir():
        raise OutputError(f"cannot write into {folder}: {existing} is a file, not a folder; choose another place")
    if existing == Path(os.path.abspath(folder)):
        _probe(existing, folder / "output")
    elif not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(
            f"cannot create the folder {folder}: {existing} is not writable; choose a folder you can write to"
        )


def check_writable(
    paths: Iterable[str | Path] | str | Path, *, suffixes: Iterable[str] | None = None, what: str = "output"
) -> None:
    """Raise ``OutputError`` for the first of ``paths`` that cannot be written (or replaced).

    A file that exists must open for writing: on Windows a workbook open in Excel does not (nor
    does a read-only file anywhere); its folder must take a new file. ``suffixes``: the names
    the output may end with (e.g. ``(".xlsx",)``), so ``-o master.csv`` is refused rather than
    written as a workbook under a CSV name.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    allowed = tuple(s.lower() for s in suffixes) if suffixes else ()
    folders: set[Path] = set()
    for path in paths:
        path = Path(path)
        if allowed and path.suffix.lower() not in allowed:
            raise OutputError(
                f"cannot write {path}: the {what} is written as {' or '.join(allowed)}; "
                f"give a name ending in {allowed[0]} (e.g. {path.stem or 'output'}{allowed[0]})"
            )
        if path.is_dir():
            raise OutputError(f"cannot write {path}: it is a folder; give a file name")
        blocker = _first_existing(path.parent)
        if not blocker.is_dir():
            raise OutputError(f"cannot write {path}: {blocker} is a file, not a folder; choose another place")
        if path.parent not in folders:  # one probe per folder, not per template
            check_folder(path.parent)
            folders.add(path.parent)
        if path.exists():
            try:
                with open(path, "r+b"):
                    pass
            except OSError as exc:
                raise OutputError(
                    f"cannot replace {path}: it is open in another program or read-only "
                    f"({_reason(exc)}); close it in Excel (or make it writable) and run again"
                ) from None


class _Batch:
    """Temporary files waiting to be renamed onto their targets, all together.

    A nested block has its own batch (``parent`` is the enclosing one): when it ends well its files
    join the parent's, when it fails they are discarded, so the outer block never commits them.
    """

    def __init__(self, parent: _Batch | None = None) -> None:
        self.pending: dict[Path, Path] = {}  # target -> temporary file
        self.parent = parent

    def add(self, tmp: Path, target: Path) -> None:
        key = Path(os.path.abspath(target))
        old = self.pending.pop(key, None)
        if old is not None and old.exists():  # the same output written twice: the last one wins
            old.unlink()
        self.pending[key] = tmp

    def lookup(self, target: Path) -> Path | None:
        key = Path(os.path.abspath(target))
        batch: _Batch | None = self
        while batch is not None:
            if key in batch.pending:
                return batch.pending[key]
            batch = batch.parent
        return None

    def merge_into_parent(self) -> None:
        assert self.parent is not None
        for target, tmp in self.pending.items():
            self.parent.add(tmp, target)  # replaces (and removes) the parent's earlier version
        self.pending.clear()

    def discard(self) -> None:
        for tmp in self.pending.values():
            with contextlib.suppress(OSError):
                tmp.unlink()
        self.pending.clear()

    def commit(self) -> None:
        """Rename every temporary file onto its target; on any exception (a file that cannot be
        replaced, or Ctrl-C between two renames) put every target back as it was, then re-raise.
        A target that cannot be put back is an ``OutputError`` naming the backup that holds its
        old content (the backup is kept, so nothing is lost)."""
        done: list[tuple[Path, Path | None]] = []
        current: tuple[Path, Path, Path | None] | None = None  # the output being renamed now
        try:
            for target, tmp in self.pending.items():
                backup = None
                if os.path.lexists(target):
                    backup = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.old")
                current = (target, tmp, backup)
                if backup is not None:
                    try:
                        os.replace(target, backup)  # Windows refuses this for a file open in Excel
                    except OSError as exc:
                        raise _failure(target, exc) from None
                try:
                    os.replace(tmp, target)
                except OSError as exc:
                    raise _failure(target, exc) from None
                done.append((target, backup))
                current = None
        except BaseException as exc:
            self._rollback(done, current, exc)
            raise
        finally:
            self.discard()
        for _, backup in done:
            if backup is not None:
                with contextlib.suppress(OSError):
                    backup.unlink()

    @staticmethod
    def _rollback(
        done: list[tuple[Path, Path | None]], current: tuple[Path, Path, Path | None] | None, cause: BaseException
    ) -> None:
        """Put every output back as it was; raise ``OutputError`` if one cannot be (naming where its
        old content is kept)."""
        undo: list[tuple[Path, Path | None]] = list(reversed(done))
        if current is not None and not any(t == current[0] for t, _ in done):
            target, tmp, backup = current
            if backup is not None and os.path.lexists(backup):  # the old content was moved aside
                undo.insert(0, (target, backup))
            elif backup is None and not os.path.lexists(tmp) and os.path.lexists(target):
                undo.insert(0, (target, None))  # a new output was already put in place
        problems: list[str] = []
        for target, backup in undo:
            try:
                if backup is not None:
                    os.replace(backup, target)
                elif os.path.lexists(target):
                    target.unlink()
            except OSError as exc:
                if backup is not None:
                    problems.append(
                        f"cannot put back {target} ({_reason(exc)}): its previous content is "
                        f"kept in {backup}; rename that file to {target.name}"
                    )
                else:
                    problems.append(f"cannot remove the new {target} ({_reason(exc)}); delete it by hand")
        if problems:
            why = str(cause) if isinstance(cause, OSError) and str(cause) else type(cause).__name__
            raise OutputError(f"writing the outputs failed ({why}) and {'; '.join(problems)}") from cause


_BATCH: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar("cascadebook_output_batch", default=None)


@contextlib.contextmanager
def all_or_nothing() -> Iterator[None]:
    """Every output written inside the block appears at its end, all of them or none.

    Inside, ``atomic_path`` leaves its temporary file for the block's end instead of renaming it
    at once (code inside the block reads back what it wrote through ``staged(target)``). On an
    exception (Ctrl-C included), or when one output cannot be put in place, no target is changed.
    A nested block joins the outer one: its outputs appear when the outer block ends; if the
    nested block fails, its own outputs are discarded (even when the outer block catches the
    exception and goes on), and the outer block's outputs are kept.
    """
    parent = _BATCH.get()
    batch = _Batch(parent)
    token = _BATCH.set(batch)
    try:
        yield
    except BaseException:
        batch.discard()
        raise
    finally:
        _BATCH.reset(token)
    if parent is not None:
        batch.merge_into_parent()
    else:
        batch.commit()


def staged(target: str | Path) -> Path:
    """Where ``target``'s content is now: inside ``all_or_nothing``, the temporary file that will
    become ``target`` at the block's end (if it was written in the block); else ``target`` itself."""
    batch = _BATCH.get()
    if batch is not None:
        pending = batch.lookup(Path(target))
        if pending is not None:
            return pending
    return Path(target)


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success it replaces the target.

    Raises ``OutputError`` (one line: what, where, what to do) when the folder cannot take the
    file or the target cannot be replaced (on Windows: a workbook open in Excel).
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix + ".tmp", dir=target.parent)
    except OSError as exc:
        raise _failure(target, exc) from None
    os.close(fd)
    tmp_path: Path | None = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; an output is an ordinary file
        batch = _BATCH.get()
        if batch is not None:
            batch.add(tmp_path, target)
            tmp_path = None
        else:
            try:
                os.replace(tmp_path, target)
            except OSError as exc:
                raise _failure(target, exc) from None
    finally:
        if tmp_path is not None and tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(target: str | Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: str | Path, text: str) -> None:
    write_bytes_atomic(target, text.encode("utf-8"))


def fsync_folder(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable (its directory entry on disk); best effort where a
    platform cannot open a folder (Windows): the send log and the portal's store both rely on it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
