"""Fixtures for the tests of the built site in _build/html.

The site tests read the output of `jupyter-book build . -W -n --keep-going`,
which must run first. The browser tests also need Chromium at
/usr/bin/chromium (or $OPTIMLIB_CHROMIUM) and `unshare`. Without them they
are skipped, unless OPTIMLIB_REQUIRE_BROWSER=1, which turns the skip into a
failure (CI sets it).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
sys.path.insert(0, str(ROOT / "scripts"))

import site_browser  # noqa: E402


@pytest.fixture(scope="session")
def site() -> Path:
    """Return the built site, failing with the build command when it is missing."""
    if not (SITE / "index.html").is_file():
        pytest.fail(
            f"no built site at {SITE}: run `jupyter-book build . -W -n --keep-going` "
            "in the repository root before the tests"
        )
    return SITE


def _missing_browser_tool() -> str | None:
    chromium = site_browser.chromium_path()
    if not Path(chromium).is_file():
        return f"Chromium not found at {chromium}"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) not found"
    return None


@pytest.fixture(scope="session")
def browser_results(site: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Load every page of the site in Chromium with no network; return the results."""
    missing = _missing_browser_tool()
    if missing is not None:
        if os.environ.get("OPTIMLIB_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{missing}, and OPTIMLIB_REQUIRE_BROWSER=1 requires the browser tests")
        pytest.skip(f"{missing}; install chromium to run the browser tests")
    out = tmp_path_factory.mktemp("browser") / "check.json"
    return site_browser.run_isolated("check", site, out)
