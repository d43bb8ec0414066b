"""Tests of the manifest loader, run from the project root (conftest.py)."""
