"""Benchmarks that print numbers and assert nothing about time.

Each runs as a module from the repository's root, ``.venv/bin/python -m bench.<name> [--help]``, so
the repository's packages (``contracts``, ``runtime``, ``devstack``, and the test-support modules of
``tests``) import as they do under pytest, without editing the import path.
"""
