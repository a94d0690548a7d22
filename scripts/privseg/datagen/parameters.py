"""The arguments of one generation, and the time window they define."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

DAY_SECONDS = 86400


@dataclass(frozen=True)
class Parameters:
    customers: int
    days: int
    seed: int
    fault_rate: float
    end_date: date  # the data ends the day before

    @property
    def end_epoch(self) -> int:
        """Unix seconds of end_date 00:00 UTC: every generated time is before it."""
        midnight = datetime(self.end_date.year, self.end_date.month, self.end_date.day, tzinfo=UTC)
        return int(midnight.timestamp())

    @property
    def window_start_epoch(self) -> int:
        """Unix seconds where the behavioural window (--days) starts."""
        return self.end_epoch - self.days * DAY_SECONDS
