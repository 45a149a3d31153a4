"""Save screenshots of every chapter of the built site, and of its panels, into screenshots/.

Build the book first. The pages load in headless Chromium inside a network
namespace with only loopback, as in the browser tests:

    python scripts/screenshots.py                  # into screenshots/
    python scripts/screenshots.py --out /tmp/shots
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from site_browser import ROOT, run_isolated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--site", type=Path, default=ROOT / "_build" / "html", help="the built site"
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "screenshots", help="folder for the PNG files"
    )
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        parser.error(f"no built site at {args.site}: run jupyter-book build first")

    with tempfile.TemporaryDirectory() as work:
        results = run_isolated(
            "screenshots", args.site, Path(work) / "screenshots.json",
            extra=["--screenshots", str(args.out.resolve())],
        )
    for page, targets in results["pages"].items():
        print(f"{page} -> {', '.join(targets)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
