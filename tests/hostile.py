"""Alias of ``tests.support.hostile`` for ``benchmarks/corpus.py``, which imports
``tests.hostile``; remove once it imports ``tests.support.hostile``."""

from __future__ import annotations

from tests.support.hostile import Measured, refusal_problems, run_measured, write_hostile_cases

__all__ = ["Measured", "refusal_problems", "run_measured", "write_hostile_cases"]
