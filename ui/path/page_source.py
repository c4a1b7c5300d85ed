"""Literals a page script defines for itself (a default table, a kernel side), read from its source.

Some prompts need a value the page keeps as a literal in its own script. Importing a page would
run it, and retyping the value would let the two drift apart, so we read it from the source with
ast.literal_eval: the prompt always sees what the page uses.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@cache
def _tree(page: str) -> ast.Module:
    """Return the parsed source of app_pages/<page>."""
    return ast.parse((ROOT / "app_pages" / page).read_text(encoding="utf-8"))


def constant(page: str, name: str) -> object:
    """Return the literal value a page assigns to a module-level name (NAME = literal)."""
    for node in _tree(page).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise LookupError(f"{page} assigns no literal {name}")


def keyword(page: str, function: str, name: str) -> object:
    """Return the literal keyword argument `name` of the page's first call to `function`."""
    for node in ast.walk(_tree(page)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == function:
            for kw in node.keywords:
                if kw.arg == name:
                    return ast.literal_eval(kw.value)
    raise LookupError(f"{page} never calls {function} with {name}=")


def edited_rows(rows: list[dict], edits: dict) -> list[dict]:
    """Return a data editor's rows after its edits (edited, then deleted, then added rows)."""
    rows = [dict(row) for row in rows]
    for index, changes in (edits.get("edited_rows") or {}).items():
        rows[int(index)].update(changes)
    deleted = {int(i) for i in edits.get("deleted_rows") or []}
    rows = [row for i, row in enumerate(rows) if i not in deleted]
    return rows + [dict(row) for row in edits.get("added_rows") or []]
