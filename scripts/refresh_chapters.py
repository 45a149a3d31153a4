"""Re-execute chapter notebooks in place, storing fresh outputs and widget state.

Run it after changing optimlib or a chapter, so that the stored outputs are
those of a fresh run again (strict nbval compares against them):

    python scripts/refresh_chapters.py                 # every chapter
    python scripts/refresh_chapters.py chapters/02_accumulation.ipynb

Each notebook runs in a new kernel from the ``chapters/`` folder, as in
JupyterLab. The widget state is stored, so that the static site can draw the
widgets. Execution timings are not recorded, printed text is stored as one
output per stream, and widget model ids are derived from the notebook's name,
so that a re-run changes nothing when the outputs do not change.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def refresh(path: Path, timeout: int) -> None:
    """Execute the notebook at ``path`` and overwrite it with its outputs."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        store_widget_state=True,
    )
    client.execute()
    for cell in notebook.cells:
        cell.get("metadata", {}).pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
    notebook = stable_widget_ids(notebook, path.name)
    nbformat.write(notebook, path)


def merge_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) outputs into one.

    The kernel may flush one cell's printed text in one message or in
    several, which would change the stored notebook between runs.
    """
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.output_type == "stream"
            and previous is not None
            and previous.output_type == "stream"
            and previous.name == output.name
        ):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def stable_widget_ids(notebook: nbformat.NotebookNode, name: str):
    """Replace the random widget model ids with ids derived from ``name``.

    ipywidgets draws a new random id for every model, so the stored widget
    state would differ on every run although the outputs do not. The n-th
    model of a notebook gets the same id on every run.
    """
    state = (
        notebook.metadata.get("widgets", {})
        .get("application/vnd.jupyter.widget-state+json", {})
        .get("state", {})
    )
    text = json.dumps(notebook)
    for index, old_id in enumerate(list(state)):
        new_id = uuid.uuid5(uuid.NAMESPACE_URL, f"optimlib-book/{name}/{index}").hex
        text = text.replace(old_id, new_id)
    return nbformat.from_dict(json.loads(text))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        help="notebooks to refresh (default: every chapters/*.ipynb)",
    )
    parser.add_argument(
        "--timeout", type=int, default=600, help="time limit per cell, in seconds"
    )
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "chapters").glob("*.ipynb"))
    if not paths:
        print("no notebooks found in chapters/", file=sys.stderr)
        return 1
    for path in paths:
        print(f"executing {path}")
        refresh(path.resolve(), args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
