"""Frozen engines that bench/engine.py measures today's engine against.

``scoring_00ca26d`` is ``git archive 00ca26d scoring`` (the engine before the replay was
made faster), with its ``from scoring.…`` imports made relative so that it imports under
its own name beside the live ``scoring`` package. It is data for the benchmark: never
edited, excluded from lint by its ``# ruff: noqa`` headers and outside mypy's ``files``.
"""
