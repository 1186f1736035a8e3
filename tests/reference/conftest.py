"""Fixtures for the reference tests: an app with a deterministic sampler source and clock.

What tests import by name (the fakes, ``serve``, ``read_stream``, the expected bytes) lives in
:mod:`tests.reference.helpers`; tests never import this conftest.
"""

from __future__ import annotations

from typing import Any

import pytest

from reference.app import create_app
from reference.settings import Settings
from tests.reference.helpers import FIXED_NOW, AppFactory, Built, MemorySource


@pytest.fixture
def build() -> AppFactory:
    """``build(samples=2, ...)``: an app with fake memory, a fixed clock and a fast interval."""

    def factory(**overrides: Any) -> Built:
        settings = Settings(**{"interval": 0.02, "log_level": "warning", **overrides})
        memory = MemorySource()
        app = create_app(settings, read_memory=memory, clock=lambda: FIXED_NOW)
        return Built(app, memory, settings)

    return factory
