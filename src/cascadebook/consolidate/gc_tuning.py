"""The garbage collector and the large, long-lived results of a reconcile."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def long_lived() -> Iterator[None]:
    """Leave every object that exists now out of the collector's passes until the block ends.

    Reconcile and the master hold what was read (a million records and more at 10,000
    departments) while they make many short-lived objects; each full collection would walk all of
    it again (a third of the time of allocating 400,000 initiatives). Not for nesting: leaving the
    block hands every frozen object back to the collector.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
