"""The reference's entry point keeps the garbage collector out of the streams' way (churn)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from reference.__main__ import GC_THRESHOLDS, tune_gc


@pytest.fixture
def restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


@pytest.mark.usefixtures("restore_gc")
def test_tune_gc_freezes_the_start_up_heap_and_makes_collections_rare() -> None:
    kept = [object() for _ in range(10)]
    tune_gc()
    assert gc.get_threshold() == GC_THRESHOLDS
    assert gc.get_threshold()[0] >= 50 * 700  # far rarer than CPython's default gen-0 threshold
    assert gc.get_freeze_count() >= len(kept)
