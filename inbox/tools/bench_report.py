"""How every benchmark reports: progress on stderr, percentiles and verdicts against targets."""

from __future__ import annotations

import sys


def progress(text: str) -> None:
    print(f"  … {text}", file=sys.stderr, flush=True)


def pct(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, round(q * (len(sorted_ms) - 1)))]


def verdict(ok: bool) -> str:
    return "target met" if ok else "target missed"
