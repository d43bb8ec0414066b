"""Benchmarks of reconciler against its emulator: ``make bench`` (``python -m benchmarks``)."""
