"""Reading a report that may be partial or hand-edited: values of the wrong type read as
missing, never as an error, and numbers are formatted for people."""

from __future__ import annotations

import math
from typing import Any


def number(value: Any) -> float | None:
    """A finite number or None (bools and strings are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def dicts(value: Any) -> list[dict]:
    return [item for item in as_list(value) if isinstance(item, dict)]


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def slug(value: Any) -> str:
    text = "".join(ch if ch.isalnum() else "-" for ch in str(value).lower()).strip("-")
    return text or "unnamed"


def fmt_number(value: Any, digits: int = 3) -> str:
    """1234 -> '1,234'; 0.01923 -> '0.019'; None or junk -> an em dash; other values as text."""
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return "—"
        if value.is_integer() and abs(value) >= 1000:
            return f"{int(value):,}"
        return f"{value:,.{digits}g}" if abs(value) < 1 else f"{value:,.{digits}f}".rstrip("0")
    return str(value)


def retention_days(value: Any) -> str | None:
    """'1,095 days (≈ 3.0 years)'; None when the value is not a number."""
    days = number(value)
    if days is None:
        return None
    years = f" (≈ {days / 365:.1f} years)" if days >= 365 else ""
    return f"{int(days):,} days{years}"
