"""A Sphinx extension for the book's HTML pages: fixes that configuration cannot make.

Loaded through ``sphinx: local_extensions`` in ``_config.yml``.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def drop_duplicate_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    """Remove repeated ``<script>`` entries from a page, keeping the first of each.

    sphinx-thebe 0.3.1 registers its inline configuration script after the
    HTML builder has started. Sphinx 7.4 then lists that script twice (once
    with the file name None, once with ""), and the second copy fails with
    "Identifier 'THEBE_JS_URL' has already been declared" in the console.
    """
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen = set()
    unique = []
    for script in scripts:
        attributes = getattr(script, "attributes", {})
        key = (
            getattr(script, "filename", script) or "",
            getattr(script, "priority", None),
            tuple(sorted(attributes.items())),
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # The builder restores the list after every page, so an in-place change
    # affects this page only.
    scripts[:] = unique


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
