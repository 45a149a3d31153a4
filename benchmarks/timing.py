"""Timing and table helpers shared by the benchmark scripts."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

CLOCKS = {
    # Elapsed time, the usual measure on an idle machine.
    "wall": time.perf_counter,
    # CPU time of the calling thread: leaves out the time the process waits
    # for a core while other programs run, so it varies less on a busy
    # machine. It still counts time lost to memory traffic from other cores.
    "cpu": time.thread_time,
}


@dataclass
class Settings:
    """How long each timing runs, and on which clock."""

    rounds: int
    min_batch_seconds: float
    clock: str = "wall"


def time_interleaved(
    candidates: dict[str, Callable[[], object]], settings: Settings
) -> dict[str, float]:
    """Return the median time of one call of each candidate, in seconds.

    Each round calls every candidate in turn, in an order that rotates from
    round to round, so a burst of load from other processes slows all of
    them alike. A candidate is called in a batch long enough for the timer's
    resolution, and its time is the batch's time over the batch size.
    """
    batch = {}
    for name, run in candidates.items():
        run()  # warm up: compile, fault in pages, fill caches
        start = time.perf_counter()
        run()
        once = time.perf_counter() - start
        batch[name] = max(1, int(settings.min_batch_seconds / max(once, 1e-9)))

    clock = CLOCKS[settings.clock]
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    names = list(candidates)
    for round_index in range(settings.rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            run, count = candidates[name], batch[name]
            start = clock()
            for _ in range(count):
                run()
            samples[name].append((clock() - start) / count)
    return {name: float(np.median(times)) for name, times in samples.items()}


def print_table(header: list[str], rows: list[list[str]]) -> None:
    """Print a Markdown pipe table with aligned columns."""
    widths = [max(len(line[k]) for line in [header, *rows]) for k in range(len(header))]

    def line(cells: list[str]) -> str:
        padded = [
            cell.ljust(width) if k < 2 else cell.rjust(width)
            for k, (cell, width) in enumerate(zip(cells, widths))
        ]
        return "| " + " | ".join(padded) + " |"

    print(line(header))
    print(
        "|"
        + "|".join(
            ("-" * (w + 2)) if k < 2 else ("-" * (w + 1) + ":")
            for k, w in enumerate(widths)
        )
        + "|"
    )
    for row in rows:
        print(line(row))


def format_seconds(seconds: float | None) -> str:
    """Format seconds as microseconds: 2 decimals below 10, 1 below 1000, else 0."""
    if seconds is None:
        return "n/a"
    micro = seconds * 1e6
    if micro < 10:
        return f"{micro:.2f}"
    if micro < 1000:
        return f"{micro:.1f}"
    return f"{micro:.0f}"
