"""The house rules of the layout, checked on the source (see README, "Where things live").

The engine never imports Streamlit, Plotly or ui; pages reach a topic through its package's public
face (engine/<topic>/__init__.py), never a module inside it; no module imports another topic's
private (underscore) names; every error a person can cause derives from engine.core.ExplorerError;
no line carries ruff's format-skip comment (code is split by its questions, not packed); figures
are drawn by ui/chart.py, never st.plotly_chart.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import subprocess
from pathlib import Path

import pytest

import engine
from engine.core import ExplorerError

ROOT = Path(__file__).resolve().parent.parent
TOPICS = sorted(p.name for p in (ROOT / "engine").iterdir() if (p / "__init__.py").exists())


def _tracked(pattern: str) -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", pattern], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / f for f in out]


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """Return (module, imported names) for every import statement in path."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((a.name, []) for a in node.names)
    return found


def _topic(path: Path) -> str | None:
    """Return the topic a source file belongs to: engine/<t>/, ui/<t>/ or tests/engine/<t>/."""
    parts = path.relative_to(ROOT).parts
    if parts[0] in ("engine", "ui") and len(parts) > 2:
        return parts[1]
    if parts[:2] == ("tests", "engine") and len(parts) > 3:
        return parts[2]
    return None


def _module_topic(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] in ("engine", "ui") and len(parts) > 2:
        return parts[1]
    return None


def test_there_are_topic_packages_to_check():
    assert {"conv", "pooling", "recurrent", "sequence"} <= set(TOPICS)


def test_the_engine_never_imports_streamlit_plotly_or_ui():
    bad = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _tracked("engine/*.py")
        for module, _ in _imports(path)
        if module.split(".")[0] in ("streamlit", "plotly", "ui")
    ]
    assert not bad


def test_pages_reach_a_topic_through_its_public_face():
    bad = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _tracked("app_pages/*.py")
        for module, _ in _imports(path)
        if module.startswith("engine.") and module.split(".")[1] in TOPICS and module.count(".") > 1
    ]
    assert not bad


def test_no_module_imports_another_topics_private_names():
    bad = []
    for path in _tracked("*.py"):
        for module, names in _imports(path):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private and _module_topic(module) != _topic(path):
                bad.append(f"{path.relative_to(ROOT)}: {private} from {module}")
    assert not bad


def _engine_modules():
    for info in pkgutil.walk_packages(engine.__path__, "engine."):
        yield importlib.import_module(info.name)


def test_every_engine_error_derives_from_the_one_base():
    errors = {
        cls
        for module in _engine_modules()
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Exception)
        and cls.__module__.startswith("engine.")
        and not cls.__name__.startswith("_")
    }
    assert len(errors) >= 10
    assert [c.__qualname__ for c in errors if not issubclass(c, ExplorerError)] == []


@pytest.mark.parametrize("topic", TOPICS)
def test_a_topics_public_face_lists_what_it_imports(topic):
    package = importlib.import_module(f"engine.{topic}")
    assert package.__doc__ and "TODO" not in package.__doc__
    assert sorted(package.__all__) == sorted(set(package.__all__))
    assert all(hasattr(package, name) for name in package.__all__)


def test_no_line_is_packed_by_hand():
    packed = [
        f"{path.relative_to(ROOT)}:{i}"
        for path in _tracked("*.py")
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if line.rstrip().endswith("# fmt: " + "skip")
    ]
    assert not packed


def _calls(path: Path, *methods: str) -> list[int]:
    """Return the lines of path that call some object's method named one of methods."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in methods
    ]


def _app_sources() -> list[Path]:
    return _tracked("app_pages/*.py") + _tracked("ui/**/*.py") + [ROOT / "app.py"]


def test_figures_are_drawn_by_ui_chart_never_st_plotly_chart():
    # st.plotly_chart makes the browser load Streamlit's 4.7 MB plotly.js (see ui/chart.py)
    sources = _app_sources()
    calls = [f"{p.relative_to(ROOT)}:{n}" for p in sources for n in _calls(p, "plotly_chart")]
    assert sources and not calls


def test_tables_are_shown_by_ui_tables_never_st_dataframe():
    # st.dataframe's grid costs a new tab ~1.3 MB of code, st.table's 0.74 MB (see ui/tables.py)
    sources = _app_sources()
    calls = [f"{p.relative_to(ROOT)}:{n}" for p in sources for n in _calls(p, "dataframe", "table")]
    assert sources and not calls
