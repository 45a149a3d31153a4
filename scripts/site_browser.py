"""Load the built book in headless Chromium with no network and report what it shows.

The tests, the latency benchmark and the screenshot command all run this file
as a child process inside a new network namespace that has only loopback, so
a page that needs any other host fails visibly:

    unshare -n python scripts/site_browser.py check --site _build/html --out r.json

In the namespace it brings loopback up, refuses to go on if any other network
interface exists, serves the site on 127.0.0.1 and drives /usr/bin/chromium
(or $OPTIMLIB_CHROMIUM) through Playwright with a fresh profile. It never
downloads a browser. ``run_isolated`` starts it that way from Python.

Tasks:
    check        per page: failed requests, console errors, MathJax output,
                 headings, image alt text, axe-core violations, bytes loaded;
                 per static panel: the plotted data for several control settings.
    latency      per static panel: time from a control move to the redrawn plot.
    screenshots  a full-page PNG of every chapter.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import functools
import http.server
import json
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
AXE_PATH = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]
PAGE_TIMEOUT_MS = 60_000

# Pages whose panels get the per-control checks and benchmarks.
CHAPTER_GLOB = "chapters/*.html"


def chromium_path() -> str:
    """Return the Chromium executable: $OPTIMLIB_CHROMIUM or /usr/bin/chromium."""
    return os.environ.get("OPTIMLIB_CHROMIUM", DEFAULT_CHROMIUM)


def run_isolated(
    task: str,
    site: Path,
    out: Path,
    extra: list[str] | None = None,
    timeout: float = 900,
) -> dict:
    """Run ``task`` in a child process in a network namespace with only loopback.

    Args:
        task: ``check``, ``latency`` or ``screenshots``.
        site: the built site, ``_build/html``.
        out: where the child writes its JSON results.
        extra: further command-line options of this script.
        timeout: seconds before the child is stopped.

    Returns:
        The parsed JSON results.

    Raises:
        RuntimeError: the child failed; the message carries its stderr.
    """
    # As root, a new network namespace is enough. Other users also need a new
    # user namespace in which they are root, so that they may configure lo.
    unshare = ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-r", "-n"]
    command = [
        *unshare, sys.executable, str(Path(__file__).resolve()),
        task, "--site", str(site), "--out", str(out), *(extra or []),
    ]
    # A session of its own lets a timeout stop the browser and Playwright's
    # driver too, not only the Python child.
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    try:
        _, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        raise RuntimeError(f"{' '.join(command)} timed out after {timeout} s") from None
    if child.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed with exit code {child.returncode}:\n"
            f"{stderr[-4000:]}"
        )
    return json.loads(out.read_text())


def bring_up_loopback() -> None:
    """Set the IFF_UP flag of ``lo``, which a new network namespace leaves down."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(sock, siocgifflags, request))[1]
        fcntl.ioctl(sock, siocsifflags, struct.pack("16sh", b"lo", flags | iff_up))


def require_isolation() -> None:
    """Raise unless loopback is the only network interface of this process."""
    names = sorted(name for _, name in socket.if_nameindex())
    if names != ["lo"]:
        raise SystemExit(
            f"refusing to start a browser: network interfaces {names} are "
            "visible. Run this script under `unshare -n` (see run_isolated)."
        )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # The browser closes connections it no longer needs (for example the
        # body of a 404 page); that is no error of the site.
        error = sys.exc_info()[1]
        if not isinstance(error, (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve ``site`` on 127.0.0.1 at a free port; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def browser_context(viewport: dict[str, int] | None = None) -> Iterator[Any]:
    """Start Chromium with a fresh profile; yield a Playwright browser context."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="optimlib-chromium-") as profile:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=chromium_path(),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport=viewport or {"width": 1280, "height": 900},
            )
            context.set_default_timeout(PAGE_TIMEOUT_MS)
            try:
                yield context
            finally:
                context.close()


def is_redirect(path: Path) -> bool:
    """Return whether ``path`` is only a meta-refresh redirect, like index.html."""
    head = path.read_text(encoding="utf-8", errors="replace")[:300].lower()
    return head.lstrip().startswith('<meta http-equiv="refresh"')


def site_pages(site: Path) -> list[str]:
    """Return the site's HTML pages relative to ``site``.

    Copied assets and meta-refresh redirects (whose targets the link check
    covers) are left out.
    """
    pages = []
    for path in sorted(site.rglob("*.html")):
        relative = path.relative_to(site).as_posix()
        if relative.startswith(("_static/", "_sources/", "_images/")):
            continue
        if not is_redirect(path):
            pages.append(relative)
    return pages


def chapter_pages(site: Path) -> list[str]:
    """Return the chapter pages relative to ``site``."""
    return sorted(p.relative_to(site).as_posix() for p in site.glob(CHAPTER_GLOB))


def _is_shared(url: str, base: str) -> bool:
    # Files under _static/ and the search index are shared by every page and
    # cached after the first one.
    path = url[len(base):] if url.startswith(base) else url
    path = path.split("?", 1)[0]
    return path.startswith("_static/") or path == "searchindex.js"


def _wait_until_settled(page: Any) -> None:
    page.wait_for_load_state("load")
    page.evaluate(
        "async () => { if (window.MathJax && MathJax.startup) "
        "{ await MathJax.startup.promise; } }"
    )
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.optimlib-panel'))"
        ".every(p => p.dataset.state === 'ready' || p.dataset.state === 'error')",
        timeout=PAGE_TIMEOUT_MS,
    )
    page.wait_for_load_state("networkidle")


_PAGE_FACTS_JS = """
() => {
  const article = document.querySelector("article") || document.body;
  const headings = Array.from(
    article.querySelectorAll("h1, h2, h3, h4, h5, h6")
  ).map(h => ({level: Number(h.tagName[1]), text: h.textContent.trim()}));
  const images = Array.from(document.querySelectorAll("img")).map(img => ({
    src: img.getAttribute("src"),
    alt: img.getAttribute("alt"),
    inArticle: article.contains(img),
  }));
  const mathNodes = Array.from(document.querySelectorAll(".math"));
  const untypeset = mathNodes
    .filter(node => !node.querySelector("mjx-container"))
    .map(node => node.textContent.trim().slice(0, 80));
  const rawTex = [];
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const parent = node.parentElement;
    if (parent && parent.closest("pre, code, script, style, .highlight")) {
      continue;
    }
    const text = node.textContent;
    if (text.includes("\\\\(") || text.includes("\\\\[") || text.includes("$$")) {
      rawTex.push(text.trim().slice(0, 80));
    }
  }
  const panels = Array.from(document.querySelectorAll(".optimlib-panel"))
    .map(panel => panel.dataset.state || "none");
  return {
    title: document.title,
    headings,
    images,
    mathElements: mathNodes.length,
    mjxContainers: document.querySelectorAll("mjx-container").length,
    untypesetMath: untypeset,
    rawTex,
    panels,
  };
}
"""

_AXE_JS = """
async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.length,
    targets: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
  }));
}
"""


_RESOURCE_BYTES_JS = """
() => performance.getEntriesByType("navigation")
  .concat(performance.getEntriesByType("resource"))
  .map(entry => ({url: entry.name, bytes: entry.decodedBodySize}))
"""


def _page_bytes(page: Any, base: str) -> tuple[int, int]:
    # (own, shared) bytes of the resources the page has loaded so far.
    own = shared = 0
    for resource in page.evaluate(_RESOURCE_BYTES_JS):
        if _is_shared(resource["url"], base):
            shared += resource["bytes"]
        else:
            own += resource["bytes"]
    return own, shared


def audit_page(context: Any, base: str, relative: str) -> dict[str, Any]:
    """Load one page and return what it requested, logged and rendered."""
    page = context.new_page()
    failed: list[dict[str, Any]] = []
    errors: list[str] = []
    page.on("requestfailed", lambda r: failed.append({"url": r.url, "error": r.failure}))
    page.on(
        "response",
        lambda r: failed.append({"url": r.url, "error": f"HTTP {r.status}"})
        if r.status >= 400 else None,
    )
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    try:
        page.goto(base + relative, timeout=PAGE_TIMEOUT_MS)
        _wait_until_settled(page)
        facts = page.evaluate(_PAGE_FACTS_JS)
        own_bytes, shared_bytes = _page_bytes(page, base)
        requests = len(page.evaluate(_RESOURCE_BYTES_JS))
        page.add_script_tag(path=str(AXE_PATH))
        violations = page.evaluate(_AXE_JS)
    finally:
        page.close()
    return {
        **facts,
        "failedRequests": failed,
        "consoleErrors": errors,
        "ownBytes": own_bytes,
        "sharedBytes": shared_bytes,
        "requests": requests,
        "axeViolations": violations,
    }


_MOVE_JS = """
async ({panelIndex, name, index}) => {
  const panel = document.querySelectorAll(".optimlib-panel")[panelIndex];
  const input = panel.querySelector(`input[data-control="${name}"]`);
  const drawn = new Promise(resolve => panel.addEventListener(
    "optimlib-panel-drawn", event => resolve(event.detail), {once: true}));
  const start = performance.now();
  input.value = String(index);
  input.dispatchEvent(new Event("input", {bubbles: true}));
  const detail = await drawn;
  const painted = await new Promise(
    resolve => requestAnimationFrame(() => resolve(performance.now())));
  return {elapsed: detail.elapsed, toFrame: painted - start};
}
"""

_PLOT_DATA_JS = """
(panelIndex) => {
  const panel = document.querySelectorAll(".optimlib-panel")[panelIndex];
  const plot = panel.querySelector(".optimlib-panel-plot");
  const inputs = {};
  panel.querySelectorAll("input[data-control]").forEach(input => {
    inputs[input.dataset.control] = Number(input.value);
  });
  const paths = Array.from(plot.querySelectorAll(".scatterlayer .trace path.js-line"))
    .map(path => path.getAttribute("d"));
  return {
    inputs,
    paths,
    traces: plot.data.map(t => ({name: t.name, x: Array.from(t.x), y: Array.from(t.y)})),
  };
}
"""

_SPEC_JS = """
(panelIndex) => JSON.parse(document.querySelectorAll(".optimlib-panel")[panelIndex]
  .querySelector("script.optimlib-panel-data").textContent)
"""


def _settings(controls: list[dict[str, Any]]) -> list[dict[str, int]]:
    # The initial setting, every control at its minimum, every control at its
    # maximum, a mixed one, and each control moved alone to its other end.
    initial = {c["name"]: c["initial"] for c in controls}
    last = {c["name"]: len(c["values"]) - 1 for c in controls}
    settings = [
        dict(initial),
        {name: 0 for name in initial},
        dict(last),
        {c["name"]: (k * 3 + 1) % len(c["values"]) for k, c in enumerate(controls)},
    ]
    for name in initial:
        moved = dict(initial)
        moved[name] = 0 if initial[name] > 0 else last[name]
        settings.append(moved)
    return settings


def sample_panels(context: Any, base: str, relative: str) -> list[dict[str, Any]]:
    """Move the controls of every static panel on a page; return the plotted data."""
    page = context.new_page()
    try:
        page.goto(base + relative, timeout=PAGE_TIMEOUT_MS)
        _wait_until_settled(page)
        count = page.evaluate("() => document.querySelectorAll('.optimlib-panel').length")
        panels = []
        for index in range(count):
            spec = page.evaluate(_SPEC_JS, index)
            samples = []
            for setting in _settings(spec["controls"]):
                for name, value in setting.items():
                    page.evaluate(
                        _MOVE_JS, {"panelIndex": index, "name": name, "index": value}
                    )
                samples.append(page.evaluate(_PLOT_DATA_JS, index))
            keyboard = _keyboard_move(page, index, spec["controls"][0]["name"])
            spec.pop("parts")
            panels.append({"spec": spec, "samples": samples, "keyboard": keyboard})
    finally:
        page.close()
    return panels


def _keyboard_move(page: Any, index: int, name: str) -> dict[str, Any]:
    # A reader moves a range input with the arrow keys; check that it redraws.
    selector = f".optimlib-panel >> nth={index} >> input[data-control='{name}']"
    page.evaluate(_MOVE_JS, {"panelIndex": index, "name": name, "index": 0})
    before = page.evaluate(_PLOT_DATA_JS, index)
    page.evaluate(
        """(panelIndex) => { window.__optimlibDrawn = new Promise(resolve =>
             document.querySelectorAll(".optimlib-panel")[panelIndex]
               .addEventListener("optimlib-panel-drawn", resolve, {once: true})); }""",
        index,
    )
    page.locator(selector).focus()
    page.keyboard.press("ArrowRight")
    page.evaluate("async () => { await window.__optimlibDrawn; }")
    after = page.evaluate(_PLOT_DATA_JS, index)
    return {"before": before, "after": after}


def measure_latency(
    context: Any, base: str, relative: str, moves: int, warmup: int = 10
) -> dict[str, Any]:
    """Move each panel's controls ``moves`` times; return timings (ms) and bytes.

    The first ``warmup`` moves, while the JavaScript engine compiles plotly's
    code, are timed apart (``firstMoveMs``, ``maxWarmupMs``) and left out of
    the medians.
    """
    page = context.new_page()
    try:
        page.goto(base + relative, timeout=PAGE_TIMEOUT_MS)
        _wait_until_settled(page)
        own_bytes, shared_bytes = _page_bytes(page, base)
        count = page.evaluate("() => document.querySelectorAll('.optimlib-panel').length")
        results = []
        for index in range(count):
            spec = page.evaluate(_SPEC_JS, index)
            elapsed, to_frame = [], []
            for move in range(warmup + moves):
                control = spec["controls"][move % len(spec["controls"])]
                value = (control["initial"] + 1 + move) % len(control["values"])
                timing = page.evaluate(
                    _MOVE_JS,
                    {"panelIndex": index, "name": control["name"], "index": value},
                )
                elapsed.append(timing["elapsed"])
                to_frame.append(timing["toFrame"])
            results.append({
                "algorithm": spec["algorithm"],
                "moves": moves,
                "firstMoveMs": elapsed[0],
                "maxWarmupMs": max(elapsed[:warmup], default=0.0),
                "medianRedrawMs": statistics.median(elapsed[warmup:]),
                "medianToFrameMs": statistics.median(to_frame[warmup:]),
                "maxRedrawMs": max(elapsed[warmup:]),
            })
    finally:
        page.close()
    return {"ownBytes": own_bytes, "sharedBytes": shared_bytes, "panels": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=["check", "latency", "screenshots"])
    parser.add_argument("--site", type=Path, required=True, help="the built site")
    parser.add_argument("--out", type=Path, required=True, help="JSON results file")
    parser.add_argument(
        "--moves", type=int, default=60, help="timed control moves per panel (latency)"
    )
    parser.add_argument(
        "--warmup", type=int, default=10,
        help="control moves per panel before the timed ones (latency)",
    )
    parser.add_argument(
        "--screenshots", type=Path, default=ROOT / "screenshots",
        help="folder for the PNG files (screenshots)",
    )
    args = parser.parse_args(argv)

    site = args.site.resolve()
    if not (site / "index.html").is_file():
        parser.error(f"no built site at {site}: run jupyter-book build first")
    if not Path(chromium_path()).is_file() and shutil.which(chromium_path()) is None:
        parser.error(f"Chromium not found at {chromium_path()}")
    bring_up_loopback()
    require_isolation()

    results: dict[str, Any] = {"task": args.task, "pages": {}}
    with serve(site) as base, browser_context() as context:
        if args.task == "check":
            for relative in site_pages(site):
                print(f"checking {relative}", file=sys.stderr, flush=True)
                facts = audit_page(context, base, relative)
                if facts["panels"]:
                    facts["panelSamples"] = sample_panels(context, base, relative)
                results["pages"][relative] = facts
        elif args.task == "latency":
            for relative in chapter_pages(site):
                print(f"timing {relative}", file=sys.stderr, flush=True)
                results["pages"][relative] = measure_latency(
                    context, base, relative, args.moves, args.warmup
                )
        else:
            args.screenshots.mkdir(parents=True, exist_ok=True)
            for relative in chapter_pages(site):
                page = context.new_page()
                page.goto(base + relative, timeout=PAGE_TIMEOUT_MS)
                _wait_until_settled(page)
                target = args.screenshots / (Path(relative).stem + ".png")
                page.screenshot(path=str(target), full_page=True)
                targets = [str(target)]
                # Each static panel alone too, at full resolution.
                panels = page.locator(".optimlib-panel")
                for number in range(panels.count()):
                    panel_target = target.with_name(f"{target.stem}-panel-{number + 1}.png")
                    panels.nth(number).screenshot(path=str(panel_target))
                    targets.append(str(panel_target))
                page.close()
                results["pages"][relative] = targets
    args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
