"""The results as Markdown tables (printed, and pasted into the README as they are)."""

from __future__ import annotations

from fractions import Fraction
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


def split(organization_share: float) -> str:
    """``all user-owned``, ``1/5 organization-owned``, ``1/2 organization-owned``."""
    if organization_share == 0:
        return "all user-owned"
    if organization_share == 1:
        return "all organization-owned"
    share = Fraction(organization_share).limit_denominator(1000)
    return f"{share.numerator}/{share.denominator} organization-owned"


def told(case: dict[str, Any]) -> str:
    """``told (`--max-requests-per-minute 3000`)`` or ``untold (default budget)``."""
    options = case["client_options"]
    return f"told (`{' '.join(options)}`)" if options else "untold (default budget)"


def refused(case: dict[str, Any]) -> str:
    """The best run's 429s: ``10 of 1,023 (1.0%)``."""
    total = sum(case["requests"].values())
    return f"{case['refused']:,} of {total:,} ({case['refused_share']:.1%})"


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
                _requests(case["requests"]) + ("" if case["requests_within"] else " ⚠"),
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
    if "latency" in results:
        lines += _latency(results["latency"])
    if "rate_limit" in results:
        lines += _rate_limit(results["rate_limit"])
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


def _latency(cases: list[dict[str, Any]]) -> list[str]:
    latency = cases[0]["latency_ms"]
    lines = [
        "",
        f"**latency** (plan, 1% changed; emulator `--latency-ms {latency}` and none, side by side)",
        "",
    ]
    rows = [
        [
            f"{case['integrations']:,}",
            split(case["organization_share"]),
            _seconds(case["seconds"]["best"]),
            _seconds(case["no_latency_seconds"]["best"]),
            _seconds(case["added_seconds"]),
            f"{case['pages']} × {latency} ms = {_seconds(case['sequential_seconds'])}",
            f"**{case['ratio']:.2f}×**",
            f"{case['round_trips']} ({case['round_trips_ratio']:.2f}×)",
            f"{case['list_requests']} (≤ {case['list_requests_max']})",
        ]
        for case in cases
    ]
    lines += _table(
        [
            "Integrations",
            "Ownership",
            f"At {latency} ms",
            "No latency",
            "Added",
            "Sequential round trips",
            "Added ÷ sequential",
            "Listing's round trips",
            "List requests",
        ],
        rows,
    )
    lines += [
        "",
        f"Added = wall time at {latency} ms − wall time at none (best of each). Sequential "
        f"round trips: what a listing one page after another waits, pages × {latency} ms. "
        "Listing's round trips: the sequential round trips `reconciler.listing` takes over "
        "the same integrations (run in virtual time against an in-memory API, every answer "
        "one latency): the least latency can add. List requests: the most of any run "
        "(target: at most pages + 4).",
    ]
    return lines


def _rate_limit(rate: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"**rate limit** (apply of {rate['updates']:,} updates at concurrency "
        f"{rate['concurrency']}; emulator `--rate-limit {rate['rate_limit']} --latency-ms "
        f"{rate['latency_ms']}`)",
        "",
    ]
    rows = [
        [
            told(case),
            _seconds(case["seconds"]["best"]),
            _seconds(rate["floor_seconds"]),
            f"**{case['ratio']:.2f}×**",
            f"{_seconds(case['phase_seconds'])} ({case['phase_ratio']:.2f}×)",
            _requests(case["requests"]),
            refused(case),
            ", ".join(str(n) for n in case["refused_samples"]),
        ]
        for case in rate["cases"]
    ]
    lines += _table(
        [
            "Client",
            "Wall time",
            "Floor",
            "× floor",
            "Apply phase (× floor)",
            "HTTP requests",
            "Answered 429",
            "429s, every run",
        ],
        rows,
    )
    lines += [
        "",
        f"Wall time: the whole process (start-up, list, plan, {rate['updates']:,} PUTs), best "
        f"run. Floor: {rate['updates']:,} requests at the server's "
        f"{rate['rate_limit']} a second. Apply phase = wall time − `apply --dry-run` of the "
        "same change (can dip under the floor: the server's bucket starts full, a second's "
        "worth). HTTP requests and 429s: the best run's, refused ones included (each retried "
        "after its `Retry-After`). Untold, the client starts at its default budget, 6,000 a "
        "minute, twice the server's limit.",
    ]
    return lines
