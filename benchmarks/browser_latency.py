"""Measure the static panels in the browser: redraw latency and page weight.

Not a test: it prints figures. Build the book first, then run from the
repository root:

    python benchmarks/browser_latency.py            # 10 + 60 control moves per panel
    python benchmarks/browser_latency.py --moves 200

The pages load in headless Chromium inside a network namespace with only
loopback (scripts/site_browser.py). For each static panel it reports the
median time from a control's input event to the end of plotly's redraw
(Plotly.react resolved), and to the next animation frame after it. The
medians cover the moves after the warm-up ones, and the target is 16 ms, one
frame at 60 Hz. The first move, before the JavaScript engine has compiled
plotly's code, is reported apart. For each chapter it reports the bytes loaded
beyond the files under _static/, which every page shares; target 1.5 MB.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from site_browser import chromium_path, run_isolated  # noqa: E402

TARGET_REDRAW_MS = 16.0
TARGET_PAGE_BYTES = 1_500_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--site", type=Path, default=ROOT / "_build" / "html", help="the built site"
    )
    parser.add_argument("--moves", type=int, default=60, help="timed control moves per panel")
    parser.add_argument(
        "--warmup", type=int, default=10, help="untimed control moves per panel first"
    )
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        parser.error(f"no built site at {args.site}: run jupyter-book build first")

    with tempfile.TemporaryDirectory() as work:
        results = run_isolated(
            "latency", args.site, Path(work) / "latency.json",
            extra=["--moves", str(args.moves), "--warmup", str(args.warmup)],
        )

    print(
        f"Chromium {chromium_path()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{args.moves} timed moves per panel after {args.warmup} untimed ones"
    )
    print()
    print(
        f"{'page':30} {'panel':8} {'median redraw':>14} {'median to frame':>16}"
        f" {'max':>8} {'first move':>11}"
    )
    for page, facts in results["pages"].items():
        for panel in facts["panels"]:
            print(
                f"{page:30} {panel['algorithm']:8} {panel['medianRedrawMs']:11.1f} ms"
                f" {panel['medianToFrameMs']:13.1f} ms {panel['maxRedrawMs']:5.1f} ms"
                f" {panel['firstMoveMs']:8.1f} ms"
            )
    print(f"target: median redraw <= {TARGET_REDRAW_MS:g} ms")
    print()
    print(f"{'page':32} {'own bytes':>12} {'shared bytes':>13}")
    for page, facts in results["pages"].items():
        print(f"{page:32} {facts['ownBytes']:12,d} {facts['sharedBytes']:13,d}")
    print(f"target: own bytes <= {TARGET_PAGE_BYTES:,d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
