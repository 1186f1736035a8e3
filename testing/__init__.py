"""Test support shared by ``tests/``, ``e2e/`` and ``bench/``: servers and process helpers.

Not part of the installed product (the wheel ships ``conformance`` and ``reference`` only): the
known-good and known-bad servers exist to prove the suite, and ``python -m testing.servers NAME``
serves any of them by hand from a checkout.
"""
