"""Compatibility alias: the fault helpers live in ``tests.support.faults``.

Kept only while an emulator test still imports ``tests.faults_support``; import
``tests.support.faults`` instead.
"""

from __future__ import annotations

from tests.support.faults import FakeClock, Recorder, ScriptedFaults, faulty_client

__all__ = ["FakeClock", "Recorder", "ScriptedFaults", "faulty_client"]
