"""The calendar date of simulated time, for protocols that write dates (Date:,
Received:, INTERNALDATE, MDTM, ls -l): a run starts at 2024-01-01 00:00:00 UTC, the
same every run, so the bytes are the same every run."""

from __future__ import annotations

import time

EPOCH = 1_704_067_200                    # 2024-01-01 00:00:00 UTC, in Unix seconds


def utc(seconds: float) -> time.struct_time:
    """The UTC calendar time of a simulated instant."""
    return time.gmtime(EPOCH + seconds)
