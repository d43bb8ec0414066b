"""No Python module of the project is over 400 lines: small modules named for what they are."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("reconciler", "tests", "benchmarks", "mutation")
LIMIT = 400


def oversized(root: Path, directories: tuple[str, ...] = CHECKED) -> list[str]:
    """Each .py file under ``directories`` of ``root`` over LIMIT lines, as 'path: N lines'."""
    found: list[str] = []
    for directory in directories:
        for path in sorted((root / directory).rglob("*.py")):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > LIMIT:
                found.append(f"{path.relative_to(root).as_posix()}: {lines} lines")
    return found


def test_no_module_is_over_400_lines() -> None:
    assert all((ROOT / directory).is_dir() for directory in CHECKED)
    assert oversized(ROOT) == []


def test_a_long_module_is_named_and_a_400_line_one_passes(tmp_path: Path) -> None:
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    (tmp_path / "reconciler").mkdir()
    (tmp_path / "tests" / "unit" / "test_long.py").write_text("x = 1\n" * 401, encoding="utf-8")
    (tmp_path / "reconciler" / "at_limit.py").write_text("x = 1\n" * 400, encoding="utf-8")
    (tmp_path / "reconciler" / "notes.txt").write_text("x\n" * 900, encoding="utf-8")
    assert oversized(tmp_path, ("reconciler", "tests")) == ["tests/unit/test_long.py: 401 lines"]
