"""Checks of the built site's HTML files that need no browser.

Run after `jupyter-book build . -W -n --keep-going`; the `site` fixture fails
with that command when _build/html is missing.
"""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import yaml

from conftest import ROOT
from site_browser import is_redirect

MAX_CHAPTER_BYTES = 1_500_000
BINDER_PREFIX = "https://mybinder.org/v2/gh/"
# Attributes through which a page makes the browser fetch something.
RESOURCE_ATTRIBUTES = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "iframe": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
    "link": ("href",),
}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")
# Files that make repo2docker (Binder) build from something other than
# requirements.txt.
BINDER_CONFIG_FILES = (
    "environment.yml", "environment.yaml", "Pipfile", "Pipfile.lock", "setup.py",
    "binder", ".binder", "apt.txt", "postBuild", "start", "install.R",
    "DESCRIPTION", "Project.toml", "default.nix", "Dockerfile",
)


class _PageParser(HTMLParser):
    """Collect a page's tags with their attributes, its ids and its inline CSS."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.ids: set[str] = set()
        self.css: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.tags.append((tag, attributes))
        for key in ("id", "name"):
            if attributes.get(key):
                self.ids.add(attributes[key])
        if "style" in attributes:
            self.css.append(attributes["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.css.append(data)


_parsed: dict[Path, _PageParser] = {}


def parse(path: Path) -> _PageParser:
    if path not in _parsed:
        parser = _PageParser()
        parser.feed(path.read_text(encoding="utf-8"))
        _parsed[path] = parser
    return _parsed[path]


def pages(site: Path) -> list[Path]:
    return [
        path for path in sorted(site.rglob("*.html"))
        if not path.relative_to(site).as_posix().startswith(("_static/", "_sources/"))
    ]


def chapter_pages(site: Path) -> list[Path]:
    return sorted((site / "chapters").glob("*.html"))


def is_external(url: str) -> bool:
    parts = urlsplit(url.strip())
    return bool(parts.netloc) or parts.scheme not in ("", "data", "blob")


def resource_urls(tag: str, attributes: dict[str, str]) -> list[str]:
    urls = []
    for name in RESOURCE_ATTRIBUTES.get(tag, ()):
        value = attributes.get(name)
        if not value:
            continue
        if name == "srcset":
            urls.extend(item.split()[0] for item in value.split(",") if item.strip())
        else:
            urls.append(value)
    return urls


def css_urls(text: str) -> list[str]:
    return [match.group(1) or match.group(2) for match in CSS_URL.finditer(text)]


def test_pages_load_nothing_from_other_hosts(site: Path) -> None:
    offenders = []
    for path in pages(site):
        page = parse(path)
        for tag, attributes in page.tags:
            offenders += [
                f"{path.relative_to(site)}: <{tag}> {url}"
                for url in resource_urls(tag, attributes) if is_external(url)
            ]
        for text in page.css:
            offenders += [
                f"{path.relative_to(site)}: CSS {url}"
                for url in css_urls(text) if is_external(url)
            ]
    assert offenders == [], "pages load files from other hosts:\n" + "\n".join(offenders)


def test_stylesheets_load_nothing_from_other_hosts(site: Path) -> None:
    offenders = [
        f"{path.relative_to(site)}: {url}"
        for path in sorted((site / "_static").rglob("*.css"))
        for url in css_urls(path.read_text(encoding="utf-8", errors="replace"))
        if is_external(url)
    ]
    assert offenders == [], "stylesheets load files from other hosts:\n" + "\n".join(offenders)


def _resolve(page: Path, url: str) -> tuple[Path, str]:
    parts = urlsplit(url)
    target = page if parts.path == "" else (page.parent / unquote(parts.path)).resolve()
    if target.is_dir():
        target = target / "index.html"
    return target, unquote(parts.fragment)


def test_internal_links_resolve(site: Path) -> None:
    broken = []
    for path in pages(site):
        if is_redirect(path):
            target = re.search(r"url=([^\"']+)", path.read_text(encoding="utf-8"))
            urls = [("meta", target.group(1))] if target else []
        else:
            urls = []
            for tag, attributes in parse(path).tags:
                if tag == "a" and attributes.get("href"):
                    urls.append(("a", attributes["href"]))
                urls += [(tag, url) for url in resource_urls(tag, attributes)]
        for tag, url in urls:
            if is_external(url) or url.startswith(("mailto:", "javascript:")):
                continue
            target, fragment = _resolve(path, url)
            where = f"{path.relative_to(site)}: <{tag}> {url}"
            if not target.is_file():
                broken.append(f"{where} (no file {target})")
            elif fragment and target.suffix == ".html" and fragment not in parse(target).ids:
                broken.append(f"{where} (no id {fragment!r})")
    assert broken == [], "broken internal links:\n" + "\n".join(broken)


def test_chapter_pages_within_weight_budget(site: Path) -> None:
    # A chapter's own bytes: its HTML (with the static panels' data inline)
    # and its figures. Files under _static/ are shared by every page.
    heavy = {}
    for path in chapter_pages(site):
        total = path.stat().st_size
        images = {
            url for tag, attributes in parse(path).tags if tag == "img"
            for url in resource_urls(tag, attributes)
            if not is_external(url) and "_static/" not in url
        }
        total += sum(_resolve(path, url)[0].stat().st_size for url in images)
        if total > MAX_CHAPTER_BYTES:
            heavy[path.name] = total
    assert heavy == {}, f"chapter pages over {MAX_CHAPTER_BYTES} bytes: {heavy}"


def _repository() -> tuple[str, str]:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    url = config["repository"]["url"].rstrip("/")
    return url.split("github.com/", 1)[1], config["repository"].get("branch", "main")


def _tracked(path: str) -> bool:
    # In a git checkout the file must be committed or staged; elsewhere (an
    # unpacked archive) it must exist.
    if (ROOT / ".git").exists():
        result = subprocess.run(
            ["git", "ls-files", "--error-unmatch", path],
            cwd=ROOT, capture_output=True, check=False,
        )
        return result.returncode == 0
    return (ROOT / path).is_file()


def _binder_links(path: Path) -> list[str]:
    return [
        attributes["href"] for tag, attributes in parse(path).tags
        if tag == "a" and attributes.get("href", "").startswith(BINDER_PREFIX)
    ]


def test_every_chapter_has_binder_link(site: Path) -> None:
    missing = [p.name for p in chapter_pages(site) if len(_binder_links(p)) != 1]
    assert chapter_pages(site), "no chapter pages in the built site"
    assert missing == [], f"chapters without exactly one Binder link: {missing}"


def test_binder_links_open_repository_notebooks(site: Path) -> None:
    repository, branch = _repository()
    wrong = []
    for path in chapter_pages(site):
        for link in _binder_links(path):
            parts = urlsplit(link)
            urlpath = parse_qs(parts.query).get("urlpath", [""])[0]
            notebook = urlpath.removeprefix("lab/tree/")
            if parts.path != f"/v2/gh/{repository}/{branch}":
                wrong.append(f"{path.name}: {link} (expected repository {repository}@{branch})")
            elif not urlpath.startswith("lab/tree/"):
                wrong.append(f"{path.name}: {link} (does not open JupyterLab)")
            elif not _tracked(notebook):
                wrong.append(f"{path.name}: {link} ({notebook} is not in the repository)")
    assert wrong == [], "Binder links that do not open a chapter:\n" + "\n".join(wrong)


def test_every_chapter_has_thebe_button(site: Path) -> None:
    missing = [
        path.name for path in chapter_pages(site)
        if not any(
            tag == "button" and "initThebeSBT()" in attributes.get("onclick", "")
            for tag, attributes in parse(path).tags
        )
    ]
    assert missing == [], f"chapters without a live-code (Thebe) button: {missing}"


def test_thebe_config_names_repository(site: Path) -> None:
    repository, branch = _repository()
    wrong = []
    for path in chapter_pages(site):
        text = path.read_text(encoding="utf-8")
        config = re.search(r'<script type="text/x-thebe-config">(.*?)</script>', text, re.S)
        if config is None:
            wrong.append(f"{path.name}: no Thebe configuration")
            continue
        body = config.group(1)
        kernel_path = re.search(r'path: "([^"]*)"', body)
        if f'repo: "{repository}"' not in body or f'ref: "{branch}"' not in body:
            wrong.append(f"{path.name}: Thebe does not start {repository}@{branch}")
        if kernel_path is None or not (ROOT / kernel_path.group(1)).is_dir():
            wrong.append(f"{path.name}: Thebe kernel folder {kernel_path} not in the repository")
    assert wrong == [], "\n".join(wrong)


def test_binder_runtime_names_python_only() -> None:
    # repo2docker reads runtime.txt for the Python version alone; packages
    # come from requirements.txt, so the two cannot drift apart.
    lines = (ROOT / "runtime.txt").read_text().split()
    assert lines == ["python-3.11"]


@pytest.mark.parametrize("name", BINDER_CONFIG_FILES)
def test_binder_builds_from_requirements_only(name: str) -> None:
    assert not (ROOT / name).exists(), (
        f"{name} would make Binder build from something other than requirements.txt"
    )
