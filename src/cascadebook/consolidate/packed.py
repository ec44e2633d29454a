"""The rows of one input sheet across all departments, packed per department when there are many.

A thousand departments type ~120,000 rows; ten thousand type 1.2 million, and as Python objects
(a record, its dict of values, its strings) they would take gigabytes. Above a threshold reconcile
keeps each department's rows of a sheet as one compressed blob (about a tenth of their size as
objects: what the rows share once, then a tuple of values per row) made in the reader worker, so
memory grows by the compressed size only, and rows are decoded a department at a time while the
master is written. Below the threshold a :class:`RecordList` holds plain lists
and costs nothing; either way it is a read-only sequence, so code that iterates, counts or indexes
records does not know the difference.
"""

from __future__ import annotations

import pickle
import tempfile
from bisect import bisect_right
from collections.abc import Hashable, Iterable, Iterator, Sequence
from operator import itemgetter
from typing import Any, NamedTuple, overload

from cascadebook.model import Record
from cascadebook.xlsx.addresses import CellRefs

# Zstandard at its fast end: a department's rows compress ~3.5x, as with zlib at level 1, but
# three times faster, and decompress twice as fast (each packed row is decoded a few times while
# the master is written). Contexts are made once per process, on first use.
_LEVEL = 1
_codec: tuple[Any, Any] | None = None


def _zstd() -> tuple[Any, Any]:
    global _codec  # noqa: PLW0603 - made once per process, on first use
    if _codec is None:
        import zstandard

        _codec = zstandard.ZstdCompressor(level=_LEVEL), zstandard.ZstdDecompressor()
    return _codec


def pack(records: Sequence[Any]) -> bytes:
    rows = list(records)
    form = _columns(rows)
    blob = _zstd()[0].compress(pickle.dumps(rows if form is None else form, protocol=pickle.HIGHEST_PROTOCOL))
    # python-zstandard hands back a bytes object that keeps the room it reserved for the worst
    # case (the uncompressed size): copied, a packed chunk holds only its compressed bytes.
    return bytes(memoryview(blob))


def unpack(blob: bytes) -> list[Any]:
    form = _load(blob)
    return form if type(form) is list else _records(form)


class _Columns(NamedTuple):
    """A department's rows of one sheet share all but their row number and values, so they are
    packed as columns: what they share once, then a tuple per row (its number, then its values in
    the order of ``keys``). Rows as tuples unpickle about seven times faster than Record objects,
    and the master's data tables read them as they are (:meth:`RecordList.value_rows`)."""

    sheet: str
    department: str
    file: str
    sheet_name: str
    id_key: str
    keys: tuple[str, ...]
    columns: Any  # the sheet's column map, shared by the rows' CellRefs
    rows: list[tuple]


def _columns(rows: list[Any]) -> _Columns | None:
    """The rows as columns, or None when they are not a department's records of one sheet alike."""
    if not rows or type(rows[0]) is not Record or type(rows[0].cells) is not CellRefs:
        return None
    first = rows[0]
    shared = (first.sheet, first.department, first.file, first.sheet_name, first.id_key)
    keys, columns = tuple(first.values), first.cells.columns
    for r in rows:
        if (
            type(r) is not Record
            or (r.sheet, r.department, r.file, r.sheet_name, r.id_key) != shared
            or type(r.cells) is not CellRefs
            or r.cells.columns is not columns
            or r.cells.row != r.row
            or tuple(r.values) != keys
        ):
            return None
    return _Columns(*shared, keys, columns, [(r.row, *r.values.values()) for r in rows])


def _load(blob: bytes) -> list[Any] | _Columns:
    return pickle.loads(_zstd()[1].decompress(blob))


def _records(form: _Columns) -> list[Record]:
    sheet, department, file, sheet_name, id_key, keys, columns = (
        form.sheet,
        form.department,
        form.file,
        form.sheet_name,
        form.id_key,
        form.keys,
        form.columns,
    )
    make, refs = object.__new__, CellRefs
    out = []
    for row in form.rows:
        record = make(Record)  # as pickle makes it: a frozen dataclass's fields set directly
        record.__dict__.update(
            sheet=sheet,
            department=department,
            file=file,
            sheet_name=sheet_name,
            row=row[0],
            values=dict(zip(keys, row[1:])),
            cells=refs(row[0], columns),
            id_key=id_key,
        )
        out.append(record)
    return out


class RecordList(Sequence[Record]):
    """A read-only sequence of records kept as chunks, each a list or a packed blob.

    The chunk last decoded is cached, so reading in order (what every writer does) decodes each
    chunk once per pass.
    """

    def __init__(self, records: Iterable[Record] = ()):
        self._chunks: list[list[Record] | bytes] = []
        self._tags: list[str | None] = []  # the department a chunk holds, when the one who added it said
        self._starts: list[int] = []
        self._length = 0
        self._cached: tuple[int, int, int, list[Record]] | None = None  # chunk, first, end, its records
        records = list(records)
        if records:
            self.add(records)

    def add(
        self, chunk: list[Record] | bytes | RecordList, count: int | None = None, department: str | None = None
    ) -> None:
        """Append a chunk: a list of records, a packed blob of ``count`` records, or another list's chunks.

        ``department``: the chunk holds that department's records only (see :meth:`departments`).
        """
        if isinstance(chunk, RecordList):
            for (part, size), tag in zip(chunk.chunks(), chunk._tags):
                self.add(part, size, department if department is not None else tag)
            return
        size = len(chunk) if isinstance(chunk, list) else count
        if size is None:
            raise ValueError("a packed chunk needs its record count")
        if size:
            self._starts.append(self._length)
            self._chunks.append(chunk)
            self._tags.append(department)
            self._length += size

    extend = add

    def chunks(self) -> list[tuple[list[Record] | bytes, int]]:
        ends = self._starts[1:] + [self._length]
        return [(c, end - start) for c, start, end in zip(self._chunks, self._starts, ends)]

    def packed(self) -> RecordList:
        """The same records with every chunk packed."""
        out = RecordList()
        for (chunk, size), tag in zip(self.chunks(), self._tags):
            out.add(chunk if isinstance(chunk, bytes) else pack(chunk), size, tag)
        return out

    def departments(self) -> dict[str, list[int]]:
        """Which chunks hold each department's records (numbers for :meth:`chunk`), in order.

        Told by the chunks' departments where they were given (reconcile gives them), so no packed
        chunk is decoded to answer; a chunk added without one is decoded to see whose rows it holds.
        """
        where: dict[str, list[int]] = {}
        for i, tag in enumerate(self._tags):
            for department in (tag,) if tag is not None else dict.fromkeys(r.department for r in self.chunk(i)):
                where.setdefault(department, []).append(i)
        return where

    @property
    def is_packed(self) -> bool:
        return any(isinstance(c, bytes) for c in self._chunks)

    def chunk(self, i: int) -> list[Record]:
        """The records of chunk ``i``, decoded (the chunk last decoded is kept)."""
        cached = self._cached
        if cached is not None and cached[0] == i:
            return cached[3]
        chunk = self._chunks[i]
        rows = chunk if isinstance(chunk, list) else unpack(chunk)
        start = self._starts[i]
        self._cached = (i, start, start + len(rows), rows)
        return rows

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[Record]:
        for chunk in self._chunks:
            yield from (chunk if isinstance(chunk, list) else unpack(chunk))

    def value_rows(self, keys: Sequence[str]) -> Iterator[tuple[str, str, int, tuple]]:
        """(department, file, row, its values of ``keys``) for each record, in order.

        What a table of the records needs: packed chunks answer from their columns without making
        a Record for each row (the master's Initiatives and KPIs tables at 10,000 departments).
        """
        keys = tuple(keys)
        for chunk in self._chunks:
            form = chunk if isinstance(chunk, list) else _load(chunk)
            if type(form) is list:
                yield from _record_values(form, keys)
                continue
            department, file, rows = form.department, form.file, form.rows
            where = {k: i for i, k in enumerate(form.keys, 1)}
            if all(k in where for k in keys):
                if not keys:
                    pick = lambda row: ()  # noqa: E731
                elif len(keys) == 1:
                    one = where[keys[0]]
                    pick = lambda row: (row[one],)  # noqa: E731, B023 - used up before the next chunk rebinds one
                else:
                    pick = itemgetter(*[where[k] for k in keys])
                for row in rows:
                    yield department, file, row[0], pick(row)
            else:  # a key the rows do not have reads as None, as values.get does
                for row in rows:
                    yield department, file, row[0], tuple([row[where[k]] if k in where else None for k in keys])

    @overload
    def __getitem__(self, index: int) -> Record: ...

    @overload
    def __getitem__(self, index: slice) -> list[Record]: ...

    def __getitem__(self, index):
        cached = self._cached  # in order, as every writer reads: most likely in the chunk last read
        if cached is not None and type(index) is int and cached[1] <= index < cached[2]:
            return cached[3][index - cached[1]]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("record index out of range")
        i = bisect_right(self._starts, index) - 1
        return self.chunk(i)[index - self._starts[i]]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (RecordList, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Iterable[Record]) -> list[Record]:  # as list + list does
        return [*self, *other]

    def __radd__(self, other: Iterable[Record]) -> list[Record]:
        return [*other, *self]

    def __repr__(self) -> str:
        return f"RecordList({self._length} records in {len(self._chunks)} chunks)"

    def __getstate__(self) -> dict:
        return {"chunks": self.chunks(), "departments": self._tags}

    def __setstate__(self, state: dict) -> None:
        self.__init__()
        for (chunk, size), tag in zip(state["chunks"], state.get("departments") or [None] * len(state["chunks"])):
            self.add(chunk, size, tag)


def value_rows(records: Sequence[Record], keys: Sequence[str]) -> Iterator[tuple[str, str, int, tuple]]:
    """:meth:`RecordList.value_rows` of any sequence of records."""
    if isinstance(records, RecordList):
        return records.value_rows(keys)
    return _record_values(records, tuple(keys))


def _record_values(records: Iterable[Record], keys: tuple[str, ...]) -> Iterator[tuple[str, str, int, tuple]]:
    for r in records:
        values = r.values
        yield r.department, r.file, r.row, tuple([values.get(k) for k in keys])


class Spool:
    """Rows put aside on disk under a key, to be read back key by key in the order they were put.

    For output that is made in one order and written in another (the Goal Hierarchy: made
    department by department, written objective by objective): the rows are packed in batches
    into one temporary file, so memory holds one batch per key, whatever the number of rows.
    """

    def __init__(self, directory: str | None = None, batch: int = 2048):
        self._file = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 - closed by close() or the with block
        self._batch = batch
        self._pending: dict[Hashable, list[Any]] = {}
        self._where: dict[Hashable, list[tuple[int, int]]] = {}  # key -> (offset, size) of its batches

    def put(self, key: Hashable, row: Any) -> None:
        rows = self._pending.setdefault(key, [])
        rows.append(row)
        if len(rows) >= self._batch:
            self._spill(key, rows)
            self._pending[key] = []

    def _spill(self, key: Hashable, rows: list[Any]) -> None:
        blob = pack(rows)
        self._file.seek(0, 2)
        self._where.setdefault(key, []).append((self._file.tell(), len(blob)))
        self._file.write(blob)

    def pop(self, key: Hashable) -> Iterator[Any]:
        """The rows put under ``key``, in order; they are gone from the spool once read."""
        for offset, size in self._where.pop(key, ()):
            self._file.seek(offset)
            yield from unpack(self._file.read(size))
        yield from self._pending.pop(key, ())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
