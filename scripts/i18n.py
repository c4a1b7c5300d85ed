"""Keep the translation catalog in step with the sources (Babel + gettext).

    python scripts/i18n.py extract   # sources → locales/explorer.pot (every msgid, English)
    python scripts/i18n.py update    # extract, then merge the .pot into locales/zh/.../explorer.po
    python scripts/i18n.py compile   # explorer.po → explorer.mo, the file the app reads

Translate in the .po between update and compile. English needs no catalog: the msgid is the text.
"""

from __future__ import annotations

import argparse
import ast
import io
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
DOMAIN = "explorer"
POT = LOCALES / f"{DOMAIN}.pot"
LANGS = ("zh",)
COMMENT_TAG = "i18n:"  # a comment starting with this, just above a message, goes to translators

# The calls whose first argument is a message id. Every ExplorerError subclass in engine/ is one
# (raised as `SomeError("text {x}", x=1)`); tests/test_i18n.py fails when one is missing here.
ERROR_CLASSES = (
    "ArchStatsError",
    "ArchitectureError",
    "AutodiffInputError",
    "BPTTConfigError",
    "CNNError",
    "CharModelError",
    "ConvConfigError",
    "DatasetError",
    "DegradationError",
    "ExamplesError",
    "ExplorerError",
    "ImageLoadError",
    "KernelDesignError",
    "LayerSizeError",
    "MemoryTaskError",
    "ModelLoadError",
    "NumberParseError",
    "PoolingError",
    "ReceptiveFieldError",
    "RecurrentConfigError",
    "SequenceError",
    "SequenceInputError",
    "TextInputError",
    "TrainingConfigError",
    "UnknownArchError",
    "UnknownArchitectureError",
    "WeightsError",
)
KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "t": None,
    "tn": (1, 2),
    "N_": None,
    "counted": (1, 2),  # engine.core.Phrase.counted(singular, plural, n): a plural pair
    **{name: None for name in ERROR_CLASSES},
}


def extract_literal_calls(
    fileobj, keywords: Mapping[str, object], comment_tags, options
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Yield (line, keyword, msgid, []) for each keyword call whose message is literal text.

    The extraction method babel.cfg names for engine/: Babel's own reads string tokens, so an
    error still raised with an f-string (`SomeError(f"{x} is too big; " "try less")`) would give
    a fragment ("try less") as a msgid; the syntax tree shows it is not one literal, and skips it.
    """
    tree = ast.parse(fileobj.read().decode(options.get("encoding", "utf-8")))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name in keywords and (msgid := _literal_msgid(node.args, KEYWORDS.get(name))):
            yield node.lineno, name, msgid, []


def _literal_msgid(args: list[ast.expr], spec: object) -> str | tuple[str, str] | None:
    """Return a call's msgid (a (singular, plural) pair for a plural keyword) when its message
    arguments are string literals, else None."""
    count = len(spec) if isinstance(spec, tuple) else 1
    texts = [a.value for a in args[:count] if isinstance(a, ast.Constant)]
    if len(texts) < count or not all(isinstance(x, str) for x in texts):
        return None
    return texts[0] if count == 1 else tuple(texts)


def po_path(lang: str) -> Path:
    """Return the path of lang's catalog."""
    return LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    """Return the path of lang's compiled catalog."""
    return po_path(lang).with_suffix(".mo")


def extract() -> Catalog:
    """Return a template catalog of every message in the sources babel.cfg names."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    template = Catalog(project="CNN & RNN Visual Explorer", charset="utf-8")
    found = extract_from_dir(
        ROOT,
        method_map,
        options_map,
        KEYWORDS,
        comment_tags=(COMMENT_TAG,),
        strip_comment_tags=True,
    )
    for filename, lineno, message, comments, context in found:
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    """Return the catalog stored in a .po or .pot file."""
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def write_catalog(catalog: Catalog, path: Path) -> None:
    """Write catalog as a .po/.pot file: no obsolete entries, no previous msgids."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=100, ignore_obsolete=True)


def compiled(lang: str) -> bytes:
    """Return the .mo bytes of lang's .po (what `compile` writes)."""
    buf = io.BytesIO()
    write_mo(buf, read_catalog(po_path(lang), lang), use_fuzzy=False)
    return buf.getvalue()


def update() -> None:
    """Extract, then merge the template into each language's .po (new ids get empty msgstr)."""
    template = extract()
    write_catalog(template, POT)
    for lang in LANGS:
        path = po_path(lang)
        catalog = read_catalog(path, lang) if path.exists() else Catalog(locale=lang)
        catalog.update(template, no_fuzzy_matching=True)
        write_catalog(catalog, path)


def compile_all() -> None:
    """Write each language's .mo from its .po."""
    for lang in LANGS:
        mo_path(lang).write_bytes(compiled(lang))


def main() -> None:
    sys.path.insert(0, str(ROOT))  # babel.cfg names scripts.i18n.extract_literal_calls
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["extract", "update", "compile"])
    command = parser.parse_args().command
    if command == "extract":
        write_catalog(extract(), POT)
    elif command == "update":
        update()
    else:
        compile_all()


if __name__ == "__main__":
    main()
