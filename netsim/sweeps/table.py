"""The sweep's table: a row per run, written as CSV and Parquet."""

from __future__ import annotations

from pathlib import Path


def to_frame(rows: list[dict], varied: list[str]):
    import pandas as pd

    frame = pd.DataFrame(rows)
    for column in varied:
        # One type per column (Parquet needs it): values given as 0 and 1% become text.
        if column in frame and len({type(v) for v in frame[column]}) > 1:
            frame[column] = frame[column].astype(str)
    frame.attrs["varied"] = list(varied)
    return frame


def write_table(frame, outdir: Path) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    csv, parquet = outdir / "sweep.csv", outdir / "sweep.parquet"
    frame.to_csv(csv, index=False)
    frame.to_parquet(parquet, index=False)
    return [csv, parquet]
