"""The results as Markdown tables (printed, and pasted into the README as they are)."""

from __future__ import annotations

from typing import Any


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value >= 0.1 else f"{value * 1000:.0f} ms"


def _requests(requests: dict[str, int]) -> str:
    """``100 list`` or ``2 list + 200 PUT``: by kind, each route's counts summed."""
    kinds: dict[str, int] = {}
    for route, count in requests.items():
        method, _, path = route.partition(" ")
        kind = "list" if (method, path) == ("GET", "/data-integrations") else method
        kinds[kind] = kinds.get(kind, 0) + count
    return " + ".join(f"{count} {kind}" for kind, count in kinds.items()) or "none"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        f"Python {machine['python']} on {machine['platform']}, {machine['cpus']} CPUs; "
        f"{results['method']}.",
    ]
    if "plan" in results:
        lines += [
            "",
            "**plan** (1% of integrations changed; emulator over loopback, no latency)",
            "",
        ]
        rows = [
            [
                f"{case['integrations']:,}",
                _seconds(case["plan_seconds"]["best"]),
                _seconds(case["floor_seconds"]["best"]),
                f"{case['floor_ratio']:.2f}×",
                _requests(case["requests"]) + ("" if case["requests_exact"] else " ⚠"),
                f"{case['peak_rss_mb']:.0f} MB",
                f"{case['floor_peak_rss_mb']:.0f} MB",
            ]
            for case in results["plan"]
        ]
        lines += _table(
            [
                "Integrations",
                "Wall time",
                "Floor",
                "× floor",
                "HTTP requests",
                "Peak RSS",
                "Floor's RSS",
            ],
            rows,
        )
        lines += [
            "",
            "Floor: a bare httpx loop fetching the same pages (decoding each to follow its "
            "cursor) plus `yaml.load(manifest, CSafeLoader)`, in a process of its own.",
        ]
    if "apply" in results:
        apply = results["apply"]
        lines += [
            "",
            f"**apply** ({apply['updates']} updates, emulator `--latency-ms "
            f"{apply['latency_ms']}`)",
            "",
        ]
        rows = [
            [
                str(case["concurrency"]),
                _seconds(case["seconds"]["best"]),
                f"{case['ideal_ratio_process']:.2f}×",
                _seconds(case["phase_seconds"]),
                _seconds(case["ideal_phase_seconds"]),
                f"**{case['ideal_ratio']:.2f}×**",
                f"{case['floor_ideal_ratio']:.2f}×",
                _requests(case["requests"]),
            ]
            for case in apply["cases"]
        ]
        lines += _table(
            [
                "Concurrency",
                "Wall time",
                "× ideal (process)",
                "Apply phase",
                "Ideal",
                "× ideal",
                "Floor × ideal",
                "HTTP requests",
            ],
            rows,
        )
        low, high = apply["speedup_concurrency"]
        options = apply["client_options"]
        pacing = f"with `{' '.join(options)}`" if options else "with the client's default pacing"
        if apply.get("client_pacing_lifted"):
            pacing += " (the client's pacing lifted: the emulator sets no limit)"
        lines += [
            "",
            f"Apply phase = wall time − `apply --dry-run` of the same change "
            f"({_seconds(apply['dry_run_seconds']['best'])}: start-up, manifest, list, plan); "
            f"ideal = ⌈updates ÷ concurrency⌉ × latency. × ideal (process) compares the whole "
            f"wall time with (list pages one after another + those rounds) × latency. "
            f"Concurrency {high} is {apply['speedup']:.1f}× faster than {low} "
            f"({apply['speedup_process']:.1f}× in whole-process time). Floor: a bare httpx "
            f"loop making the same PUTs at the same concurrency. Run {pacing}.",
        ]
    if "startup" in results:
        lines += ["", "**start-up**", ""]
        rows = [
            [f"`{name}`", _seconds(values["best"])]
            for name, values in results["startup"]["commands"].items()
        ]
        lines += _table(["Command", "Wall time"], rows)
    if results.get("targets"):
        lines += ["", "**targets**", ""]
        rows = [
            [t["target"], t["measured"], "✅ met" if t["met"] else "❌ missed"]
            for t in results["targets"]
        ]
        lines += _table(["Target", "Measured", ""], rows)
    return "\n".join(lines)
