"""The inputs of a reconcile: files, folders (recursively) and mail sources, as workbooks to read."""

from __future__ import annotations

import os
from pathlib import Path

from cascadebook.inbox.collect import expand_mail_source, is_mail_source


def expand_inputs(inputs: list[str | Path]) -> list[tuple[Path, str]]:
    """Files and folders (recursively) -> (path, display name), sorted for a stable order.

    Mail sources (.zip, .eml, .mbox, .msg, Maildir, a ``collect`` folder) are opened by
    ``cascadebook.inbox.collect``: their workbooks come back as e.g. "inbox.mbox › message 3 › x.xlsx".
    """
    found: list[tuple[Path, str]] = []
    for item in inputs:
        item = Path(item)
        if is_mail_source(item):
            found.extend(expand_mail_source(item, item.name))
        elif item.is_dir():
            for root, dirs, files in os.walk(item):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    full = Path(root) / name
                    shown = str(full.relative_to(item.parent))
                    found.extend(expand_mail_source(full, shown) if is_mail_source(full) else [(full, shown)])
        else:
            found.append((item, item.name))
    return sorted(set(found), key=lambda pair: pair[1])
