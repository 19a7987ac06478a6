"""Sphinx extension of the book: offline JavaScript and the shared notation macros.

- MathJax and plotly.js are served from the book's own static files: the site works with no
  internet (CI has none), and the browser test fails on any request to another host.
- The MathJax macros come from :data:`klviz.notation.MACROS`, the same source as the hidden
  macro cell of every notebook.
- The self-check questions' script and style (:mod:`klviz.quiz.web`) come from the package's
  ``klviz/quiz/static``, added to the static path: one copy, served by the book.
- ``KLVIZ_BOOK_BUILD=1`` tells the executed notebooks they run inside the build
  (:func:`klviz.viz.show` then emits HTML that uses the served plotly.js).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
STATIC = HERE.parent / "_static"
MATHJAX = "vendor/mathjax/tex-svg-full.js"


def _config_inited(app, config) -> None:
    from klviz.notation import mathjax3_macros

    mathjax_file = STATIC / MATHJAX
    if not mathjax_file.exists():
        raise RuntimeError(
            f"{mathjax_file} is missing: run `make vendor` (or `make book`, which runs it) "
            "to fetch MathJax from the npm registry into book/_static/vendor/"
        )
    config.mathjax_path = MATHJAX
    cfg = dict(config.mathjax3_config or {})
    tex = dict(cfg.get("tex", {}))
    tex["macros"] = {**mathjax3_macros(), **tex.get("macros", {})}
    cfg["tex"] = tex
    config.mathjax3_config = cfg
    if str(STATIC) not in [str(Path(app.confdir, p).resolve()) for p in config.html_static_path]:
        config.html_static_path.append(str(STATIC))
    from klviz.quiz.web import STATIC as QUIZ_STATIC

    if str(QUIZ_STATIC) not in [str(Path(app.confdir, p).resolve()) for p in config.html_static_path]:
        config.html_static_path.append(str(QUIZ_STATIC))


def _builder_inited(app) -> None:
    import plotly

    vendor = STATIC / "vendor"
    vendor.mkdir(parents=True, exist_ok=True)
    src = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    dst = vendor / "plotly.min.js"
    if not dst.exists() or dst.stat().st_size != src.stat().st_size:
        shutil.copyfile(src, dst)
    app.add_js_file("vendor/plotly.min.js")
    app.add_css_file("klviz.css")
    from klviz.quiz.web import SCRIPT, STYLE

    app.add_js_file(SCRIPT)
    app.add_css_file(STYLE)


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    # sphinx-thebe registers its inline config script once per read pass; a second copy
    # redeclares `const THEBE_JS_URL` and throws in the browser
    seen, unique = set(), []
    for js in context.get("script_files", []):
        attrs = getattr(js, "attributes", {})
        # the copies differ only in filename (None against ""): compare what the page gets
        if attrs.get("body"):
            key = (getattr(js, "filename", None) or "", tuple(sorted(attrs.items())))
        else:
            key = str(js)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"][:] = unique


def setup(app):
    os.environ["KLVIZ_BOOK_BUILD"] = "1"
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _builder_inited)
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "0.1"}
