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
from pathlib import Path
from typing import Iterable, Iterator


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
        return OutputError(f"cannot replace {target}: it is open in another program or read-only ({_reason(exc)}); "
                           "close it in Excel (or make it writable) and run again")
    return OutputError(f"cannot write {target} ({_reason(exc)}); choose a folder you can write to, "
                       "or close the file if it is open in Excel")


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
        raise OutputError(f"cannot write into the folder {folder} ({_reason(exc)}); choose a folder you can "
                          f"write to for {target.name}") from None
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
        raise OutputError(f"cannot create the folder {folder}: {existing} is not writable; "
                          "choose a folder you can write to")


def check_writable(paths: Iterable[str | Path] | str | Path, *, suffixes: Iterable[str] | None = None,
                   what: str = "output") -> None:
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
            raise OutputError(f"cannot write {path}: the {what} is written as {' or '.join(allowed)}; "
                              f"give a name ending in {allowed[0]} (e.g. {path.stem or 'output'}{allowed[0]})")
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
                raise OutputError(f"cannot replace {path}: it is open in another program or read-only "
                                  f"({_reason(exc)}); close it in Excel (or make it writable) and run again") from None


class _Batch:
    """Temporary files waiting to be renamed onto their targets, all together."""

    def __init__(self) -> None:
        self.pending: dict[Path, Path] = {}  # target -> temporary file

    def add(self, tmp: Path, target: Path) -> None:
        key = Path(os.path.abspath(target))
        old = self.pending.pop(key, None)
        if old is not None and old.exists():  # the same output written twice: the last one wins
            old.unlink()
        self.pending[key] = tmp

    def discard(self) -> None:
        for tmp in self.pending.values():
            with contextlib.suppress(OSError):
                tmp.unlink()
        self.pending.clear()

    def commit(self) -> None:
        done: list[tuple[Path, Path | None]] = []
        try:
            for target, tmp in self.pending.items():
                backup = None
                if os.path.lexists(target):
                    backup = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.old")
                    try:
                        os.replace(target, backup)  # Windows refuses this for a file open in Excel
                    except OSError as exc:
                        raise _failure(target, exc) from None
                try:
                    os.replace(tmp, target)
                except OSError as exc:
                    if backup is not None:
                        os.replace(backup, target)
                    raise _failure(target, exc) from None
                done.append((target, backup))
        except OSError:
            for target, backup in reversed(done):  # put every output back as it was
                with contextlib.suppress(OSError):
                    if backup is not None:
                        os.replace(backup, target)
                    else:
                        target.unlink()
            raise
        finally:
            self.discard()
        for _, backup in done:
            if backup is not None:
                with contextlib.suppress(OSError):
                    backup.unlink()


_BATCH: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar("cascadebook_output_batch", default=None)


@contextlib.contextmanager
def all_or_nothing() -> Iterator[None]:
    """Every output written inside the block appears at its end, all of them or none.

    Inside, ``atomic_path`` leaves its temporary file for the block's end instead of renaming it
    at once (code inside the block reads back what it wrote through ``staged(target)``). On an exception, or
    when one output cannot be put in place, no target is changed. Nested blocks join the outer one.
    """
    if _BATCH.get() is not None:
        yield
        return
    batch = _Batch()
    token = _BATCH.set(batch)
    try:
        yield
    except BaseException:
        batch.discard()
        raise
    finally:
        _BATCH.reset(token)
    batch.commit()


def staged(target: str | Path) -> Path:
    """Where ``target``'s content is now: inside ``all_or_nothing``, the temporary file that will
    become ``target`` at the block's end (if it was written in the block); else ``target`` itself."""
    batch = _BATCH.get()
    if batch is not None:
        pending = batch.pending.get(Path(os.path.abspath(target)))
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
