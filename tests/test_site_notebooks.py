"""Checks of the outputs stored in the chapter notebooks, which the site shows.

A stored output must not reveal the machine it was made on (a home or build
path, an installed package's location, a memory address) or show a
traceback.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
MACHINE_PATH = re.compile(
    r"/(?:work|tmp|root|home|Users|private/var)/|site-packages|dist-packages|[A-Z]:\\\\Users"
)
MEMORY_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")
TRACEBACK = re.compile(r"Traceback \(most recent call last\)")
# The static panels' data is base64, in which any pattern may occur by chance.
PANEL_DATA = re.compile(
    r'<script type="application/json" class="optimlib-panel-data">.*?</script>', re.S
)


def output_texts(path: Path) -> list[tuple[int, str, str]]:
    """Return (cell number, kind, text) for every text output of a notebook."""
    notebook = nbformat.read(path, as_version=4)
    texts = []
    for number, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                texts.append((number, "error", "\n".join(output.traceback)))
            elif output.output_type == "stream":
                texts.append((number, "stream", output.text))
            for mime, data in output.get("data", {}).items():
                if mime.startswith("text/"):
                    text = data if isinstance(data, str) else "".join(data)
                    texts.append((number, mime, PANEL_DATA.sub("", text)))
    return texts


def find(pattern: re.Pattern, path: Path) -> list[str]:
    return [
        f"cell {number} ({kind}): ...{text[max(0, m.start() - 40):m.end() + 20]!r}..."
        for number, kind, text in output_texts(path)
        for m in pattern.finditer(text)
    ]


def test_chapters_exist() -> None:
    assert CHAPTERS, "no notebooks in chapters/"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_outputs_have_no_machine_paths(path: Path) -> None:
    assert find(MACHINE_PATH, path) == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_outputs_have_no_memory_addresses(path: Path) -> None:
    assert find(MEMORY_ADDRESS, path) == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_outputs_have_no_tracebacks(path: Path) -> None:
    errors = [number for number, kind, _ in output_texts(path) if kind == "error"]
    assert errors == [], f"cells with an error output: {errors}"
    assert find(TRACEBACK, path) == []
