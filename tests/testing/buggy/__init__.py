"""Orchestrators with one real bug each; the harness must catch every one.

Each module is a small app written the way a developer would write it, bug included.
Several read the clock, ``random`` or module state inside a helper in ``support.py``,
through an alias, where the linter cannot see it. ``tests/testing/test_buggy.py`` runs
``durable fuzz`` on each and expects exit 1 with the property named.
"""
