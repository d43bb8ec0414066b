"""Tests of saved plans, each in a working directory with a manifest (conftest.py)."""
