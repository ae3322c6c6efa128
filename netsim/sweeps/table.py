"""The sweep's table: a row per run, written as CSV and Parquet.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is a formula to a spreadsheet that opens the CSV (``=HYPERLINK(…)`` from a varied value
or an error message is a link, ``=cmd|…`` worse). As OWASP's *CSV Injection* page
advises, such a cell is written with a ``'`` before it, which the spreadsheet shows
as text; numbers (a negative one too) are left as they are, and the Parquet file, which
no spreadsheet evaluates, keeps every value as it was. Both files are written under a
temporary name and renamed into place (never through a link planted in the folder).
"""

from __future__ import annotations

from pathlib import Path

from netsim.trace.outfiles import make_folder, write_into_place

#: What makes a spreadsheet read a cell as a formula (OWASP, CSV Injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def to_frame(rows: list[dict], varied: list[str]):
    import pandas as pd

    frame = pd.DataFrame(rows)
    for column in varied:
        # One type per column (Parquet needs it): values given as 0 and 1% become text.
        if column in frame and len({type(v) for v in frame[column]}) > 1:
            frame[column] = frame[column].astype(str)
    frame.attrs["varied"] = list(varied)
    return frame


def defused(value):
    """``value`` as a CSV cell no spreadsheet takes for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_frame(frame):
    """A copy of ``frame`` whose text cells and column names are :func:`defused`."""
    from pandas.api.types import is_numeric_dtype

    safe = frame.copy()
    for column in safe.columns:
        if not is_numeric_dtype(safe[column]):          # object or string columns
            safe[column] = safe[column].map(defused)
    safe.columns = [defused(str(c)) for c in safe.columns]
    return safe


def write_table(frame, outdir: Path) -> list[Path]:
    make_folder(Path(outdir), Path(outdir))
    csv, parquet = Path(outdir) / "sweep.csv", Path(outdir) / "sweep.parquet"
    write_into_place(csv, lambda part: csv_frame(frame).to_csv(part, index=False))
    write_into_place(parquet, lambda part: frame.to_parquet(part, index=False))
    return [csv, parquet]
