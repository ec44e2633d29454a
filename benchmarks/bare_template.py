"""The floor for ``generate``: the xlsxwriter calls of ``write_template``, replayed as straight-line code.

Setup (untimed) runs ``cascadebook.template.department.write_template`` once, for the first department, with a
recording stand-in for xlsxwriter: every call on the workbook, its worksheets and formats is logged
with its arguments. The log is turned into one generated Python function -- ``ws3.write_blank(4, 1,
None, f7)`` and so on, thousands of literal calls -- where the department's code, name, head and
signature are looked up per department. Running it for every department is exactly the xlsxwriter
work of ``generate`` (same cells, formats, validations, formulas, conditional formats, names,
properties, same worksheet class) with none of the library's own Python around it: spec and rule
handling, formula building, format look-ups, metadata, atomic renames. bench.py checks that a
replayed template is byte-for-byte the template ``generate`` wrote.

Because the floor is recorded from the library, it follows any change to the template by itself.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[int, str, tuple, dict, int | None]] = []
        self.objects: list[Any] = []
        self.book_args: tuple = ()

    def wrap(self, obj: Any) -> _Proxy:
        self.objects.append(obj)
        return _Proxy(self, len(self.objects) - 1, obj)


class _Proxy:
    __slots__ = ("_idx", "_obj", "_rec")

    def __init__(self, rec: _Recorder, idx: int, obj: Any) -> None:
        self._rec, self._idx, self._obj = rec, idx, obj

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._obj, name)
        if not callable(attr):
            return attr
        rec, idx = self._rec, self._idx

        def call(*args, **kwargs):
            result = attr(*_unwrap(args), **_unwrap(kwargs))
            wrapped, result_idx = result, None
            if isinstance(result, (Worksheet, Format)):
                wrapped = rec.wrap(result)
                result_idx = wrapped._idx
            rec.calls.append((idx, name, args, kwargs, result_idx))
            return wrapped

        return call


def _unwrap(value: Any) -> Any:
    if isinstance(value, _Proxy):
        return value._obj
    if isinstance(value, tuple):
        return tuple(_unwrap(v) for v in value)
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


class _RecordingXlsxwriter:
    """Stands in for the ``xlsxwriter`` module inside cascadebook.template.department while recording."""

    def __init__(self, rec: _Recorder) -> None:
        self._rec = rec

    def __getattr__(self, name: str) -> Any:
        return getattr(xlsxwriter, name)

    def Workbook(self, *args, **kwargs):
        self._rec.book_args = (args[1:], kwargs)
        return self._rec.wrap(xlsxwriter.Workbook(*args, **kwargs))


class _Source:
    """Renders recorded arguments as Python literals; department-specific text becomes T[i]."""

    def __init__(self, tokens: dict[str, int]) -> None:
        self.tokens = tokens
        self.texts: dict[str, int] = {}
        self.constants: dict[int, tuple[str, Any]] = {}

    def render(self, value: Any) -> str:
        if isinstance(value, _Proxy):
            return f"o{value._idx}"
        if isinstance(value, str):
            if any(token in value for token in self.tokens):
                return f"T[{self.texts.setdefault(value, len(self.texts))}]"
            return repr(value)
        if value is None or isinstance(value, (bool, int, float, datetime.date)):
            return repr(value)  # datetime.datetime(...) / datetime.date(...) evaluate in the namespace
        if isinstance(value, tuple):
            return "(" + "".join(self.render(v) + ", " for v in value) + ")"
        if isinstance(value, list):
            return "[" + ", ".join(self.render(v) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self.render(k)}: {self.render(v)}" for k, v in value.items()) + "}"
        name, _ = self.constants.setdefault(id(value), (f"K{len(self.constants)}", value))  # classes, etc.
        return name


def record(strategy, department, spec, key: bytes | None, generated_at: str, path: Path) -> _Recorder:
    from cascadebook.template import department as templates

    rec = _Recorder()
    real = templates.xlsxwriter
    templates.xlsxwriter = _RecordingXlsxwriter(rec)
    try:
        templates.write_template(strategy, department, path, spec=spec, key=key, generated_at=generated_at)
    finally:
        templates.xlsxwriter = real
    if not rec.calls:
        raise RuntimeError("cascadebook.template.department did not build its book through xlsxwriter.Workbook")
    return rec


def bare_generate(
    strategy, outbox: Path, key: bytes | None, generated_at: str, scratch: Path | None = None
) -> Callable[[], int]:
    """Record, compile, and return the timed loop (it returns the number of templates written)."""
    from cascadebook import load_spec
    from cascadebook.template.department import make_metadata, template_filename

    spec = load_spec("department")
    departments = sorted(strategy.departments, key=lambda d: d.code)
    first = departments[0]
    scratch = scratch or outbox.parent
    scratch.mkdir(parents=True, exist_ok=True)
    rec = record(strategy, first, spec, key, generated_at, scratch / ".bare-template-recording.xlsx")

    def identity(department) -> list[str]:
        meta = make_metadata(strategy, department, spec, generated_at, key)
        return [department.code, department.name, department.head, meta.signature]

    first_values = identity(first)
    tokens = {value: i for i, value in enumerate(first_values) if value}
    # longest first, so that a token inside another (a code inside a name) is replaced after it
    order = sorted(tokens, key=len, reverse=True)
    src = _Source(tokens)
    book_args, book_kwargs = rec.book_args
    lines = [
        "def replay(path, T):",
        (
            f"    o0 = Workbook(path, {', '.join(src.render(a) for a in book_args)}"
            f"{', ' if book_args and book_kwargs else ''}"
            f"{', '.join(f'{k}={src.render(v)}' for k, v in book_kwargs.items())})"
        ),
    ]
    for target, method, args, kwargs, result in rec.calls:
        call_args = ", ".join(
            itertools.chain((src.render(a) for a in args), (f"{k}={src.render(v)}" for k, v in kwargs.items()))
        )
        lines.append(f"    {f'o{result} = ' if result is not None else ''}o{target}.{method}({call_args})")
    namespace: dict[str, Any] = {
        "Workbook": xlsxwriter.Workbook,
        "datetime": datetime,
        **dict(src.constants.values()),
    }
    exec(compile("\n".join(lines), "<bare_template replay>", "exec"), namespace)  # noqa: S102 - our own code
    replay = namespace["replay"]
    texts = sorted(src.texts, key=src.texts.get)

    def run() -> int:
        outbox.mkdir(parents=True, exist_ok=True)
        for department in departments:
            values = identity(department)
            per_department = []
            for text in texts:
                for token in order:
                    if token in text:
                        text = text.replace(token, values[tokens[token]])
                per_department.append(text)
            replay(str(outbox / template_filename(strategy.cycle, department.code)), per_department)
        return len(departments)

    run.calls = len(rec.calls)  # type: ignore[attr-defined]
    return run
