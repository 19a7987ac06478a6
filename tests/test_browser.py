"""The built book in headless Chromium, as a reader sees it.

Every page of the build is loaded once from a local server (``visit`` below); the tests then read
what was recorded: console errors, requests to other hosts, typeset math, figure images and their
alt text, widget leftovers, folded solutions, internal links, dark-theme legibility and the
kernel-free Plotly sliders. On every chapter page, the reader's view at 1280x900: no code cell or
printed output scrolls sideways (visible or in an opened solution; the theme's white-space and font
size unchanged), none over 20 lines, no glue() bookkeeping in sight, and in every Plotly figure the
title, legend, slider and plot area present and pairwise disjoint (light theme as loaded and with the
slider moved, dark theme), and one self-check question answered right and one wrong (klviz.quiz).
The counts go to ``browser-report.json``. Screenshots go to
``_build/screenshots/``.

Chromium is Debian's (``make browser`` installs it; ``KLVIZ_CHROMIUM`` overrides the path),
driven through Playwright; no browser is downloaded. For authors:
``KLVIZ_BUILT_BOOK=/tmp/jb/_build/html pytest -m browser`` checks a partial build from
``scripts/build_pages.sh``.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import shutil
import threading
import time
from collections import defaultdict
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.book]

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# generated indices (Sphinx, sphinx-proof) and index.html, which only redirects to the root page
SKIP_PAGES = {"genindex.html", "search.html", "py-modindex.html", "prf-prf.html", "index.html"}
# Chapters (notebooks/NN_name) must carry a kernel-free slider; front and back matter need not,
# nor the appendices named here.
APPENDICES = ("performance",)
FILENAME_ALT = re.compile(r"(^|/)[^\s/]+\.(png|jpe?g|svg|gif|webp)$|^_images|^(png|jpe?g|svg|image|img|figure|plot)$", re.I)


def chromium_path() -> str | None:
    exe = os.environ.get("KLVIZ_CHROMIUM") or "/usr/bin/chromium"
    return exe if Path(exe).exists() else shutil.which("chromium")


def is_chapter(rel: str) -> bool:
    name = Path(rel).stem
    return rel.startswith("notebooks/") and re.match(r"\d\d_", name) is not None and not any(
        a in name for a in APPENDICES
    )


# --- the local server -----------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output readable
        pass


@pytest.fixture(scope="module")
def site(built_book: Path):
    if not (built_book / "index.html").exists():
        pytest.fail(f"{built_book} has no index.html: is it a built book (_build/html)?")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(built_book)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", built_book
    server.shutdown()
    server.server_close()


def book_pages(root: Path) -> list[str]:
    """Every content page of the build, relative to ``root``, the root page first."""
    pages = []
    for p in sorted(root.rglob("*.html")):
        rel = p.relative_to(root).as_posix()
        top = rel.split("/")[0]
        if rel in SKIP_PAGES or top in ("_static", "_sources", "_images", "_downloads") or top.startswith("."):
            continue
        pages.append(rel)
    first = next((p for p in pages if p.endswith("intro.html")), None)
    return ([first] if first else []) + [p for p in pages if p != first]


# --- static link check (no browser needed) --------------------------------------------------


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key) and (key == "id" or tag == "a"):
                self.ids.add(a[key])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])


@functools.lru_cache(maxsize=None)
def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def broken_links(root: Path, rel: str) -> list[str]:
    problems = []
    base = "http://book.invalid/" + rel
    for href in _parse(root / rel).hrefs:
        parts = urlsplit(urljoin(base, href))
        if parts.netloc != "book.invalid" or parts.scheme not in ("http", "https"):
            continue  # another site (launch buttons, DOIs) or mailto: -- links are allowed, requests are not
        target = unquote(parts.path.lstrip("/")) or "index.html"
        if target.endswith("/"):
            target += "index.html"
        path = root / target
        if not path.is_file():
            problems.append(f"link {href!r} -> missing file {target}")
            continue
        if parts.fragment and target.endswith(".html") and unquote(parts.fragment) not in _parse(path).ids:
            problems.append(f"link {href!r} -> no id {parts.fragment!r} in {target}")
    return problems


# --- one visit per page, recording everything -------------------------------------------------

WAIT_MATHJAX = """async () => {
  const hasMath = document.querySelector('.math, .output_area, mjx-container') !== null;
  if (!hasMath) return 'no math';
  for (let i = 0; i < 200 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
    await new Promise(r => setTimeout(r, 50));
  if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) return 'MathJax never started';
  await MathJax.startup.promise;
  if (MathJax.typesetPromise) await MathJax.typesetPromise();
  return 'ok';
}"""

MATH_REPORT = """() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const mathEls = [...article.querySelectorAll('.math')];
  const untypeset = mathEls.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.trim().slice(0, 60));
  // undefined macros come out as red text (the glyphs' code points are in data-c); TeX errors as merror
  const glyphs = e => [...e.querySelectorAll('[data-c]')].map(g => String.fromCodePoint(parseInt(g.getAttribute('data-c'), 16))).join('');
  const errors = [
    ...[...article.querySelectorAll('[data-mml-node="mtext"][fill="red"]')].map(e => 'undefined macro ' + glyphs(e)),
    ...[...article.querySelectorAll('mjx-merror, [data-mml-node="merror"]')].map(e => 'TeX error: ' + (e.getAttribute('data-mjx-error') || glyphs(e)).slice(0, 80)),
  ];
  const clone = article.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, textarea, mjx-container, .highlight, .mathjax_ignore').forEach(e => e.remove());
  const text = clone.textContent;
  const raw = [];
  for (const re of [/\\\\\\(/, /\\\\\\[/, /\\$\\$/, /\\\\begin\\{/, /\\$(?=\\S)[^$]*\\\\[a-zA-Z]+[^$]*\\$/]) {
    const m = text.match(re);
    if (m) raw.push(text.slice(Math.max(0, m.index - 30), m.index + 40).replace(/\\s+/g, ' '));
  }
  return {containers: article.querySelectorAll('mjx-container').length, svg: article.querySelectorAll('mjx-container svg').length,
          mathEls: mathEls.length, untypeset, errors, raw};
}"""

IMAGE_REPORT = """() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  return [...article.querySelectorAll('img')].map(img => ({
    src: img.getAttribute('src'), alt: img.getAttribute('alt'), ok: img.complete && img.naturalWidth > 0,
    inFigure: img.closest('figure, .cell_output') !== null,
  }));
}"""

WIDGET_REPORT = """() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const found = [];
  if (article.querySelector('.widget-view, .jupyter-widgets, .p-Widget, .lm-Widget, script[type^="application/vnd.jupyter.widget"]'))
    found.push('widget element');
  const html = article.innerHTML;
  for (const s of ['application/vnd.jupyter.widget', 'HBox(', 'VBox(', 'FloatProgress', 'IntProgress', 'interactive(children='])
    if (html.includes(s)) found.push(s);
  return found;
}"""

BACKGROUNDS = """() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const els = [...article.querySelectorAll('figure img, .cell_output img, figure.klviz-online, div.klviz-quiz')];
  return els.map(e => ({what: e.tagName.toLowerCase() + ' ' + (e.getAttribute('src') || e.getAttribute('aria-label') || '').slice(-50),
                        bg: getComputedStyle(e).backgroundColor}));
}"""

SLIDER_STATE = """(i) => {
  const gd = document.querySelectorAll('figure.klviz-online .js-plotly-plot')[i];
  return JSON.stringify((gd.data || []).map(t => t.visible));
}"""


# The reader's view (issue 11): code that fits the column, short cells, no bookkeeping in sight.
# ``inSolutions`` limits the report to cells inside solutions (measured once they are opened).
CODE_REPORT = """(inSolutions) => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const shown = e => e.checkVisibility ? e.checkVisibility() : e.offsetParent !== null;
  // the theme's own code style: a code block the book's CSS has not singled out
  const probe = document.createElement('div');
  probe.className = 'highlight';
  probe.innerHTML = '<pre>x</pre>';
  article.appendChild(probe);
  const ref = getComputedStyle(probe.firstChild);
  const theme = {whiteSpace: ref.whiteSpace, fontSize: ref.fontSize};
  probe.remove();
  const keep = e => shown(e) && (e.closest('.solution') !== null) === inSolutions;
  const code = [...article.querySelectorAll('.cell_input pre')].filter(keep).map(e => {
    const text = e.textContent.replace(/\\n+$/, '');
    const cs = getComputedStyle(e);
    return {first: text.split('\\n')[0].slice(0, 60), lines: text.split('\\n').length,
            scrollWidth: e.scrollWidth, clientWidth: e.clientWidth, whiteSpace: cs.whiteSpace,
            fontSize: cs.fontSize, glue: /(^|[^\\w.])glue\\(/m.test(text)};
  });
  // printed text (pre), HTML tables (against the output's width) and any other output block
  const outputs = [...article.querySelectorAll('.cell_output pre, .cell_output table, .cell_output > .output:not(:has(pre, table))')]
    .filter(keep).filter(e => !e.closest('figure.klviz-online')).map(e => {
      const table = e.tagName === 'TABLE';
      return {first: e.textContent.trim().split('\\n')[0].slice(0, 60), tag: table ? 'table' : e.tagName === 'PRE' ? 'text' : 'block',
              scrollWidth: table ? e.offsetWidth : e.scrollWidth,
              clientWidth: table ? e.closest('.cell_output').clientWidth : e.clientWidth};
    });
  return {theme, code, outputs};
}"""

# Boxes of the parts of each kernel-free figure, in page pixels: the title, the legend, the
# slider, and the plot area (each panel's frame with its tick labels, axis and panel titles).
PLOTLY_BOXES = """() => {
  const box = e => { const b = e.getBoundingClientRect(); return {l: b.left, t: b.top, r: b.right, b: b.bottom}; };
  const union = els => {
    const bs = els.filter(e => (e.textContent || '').trim() || e.tagName.toLowerCase() !== 'text').map(box)
      .filter(b => b.r > b.l && b.b > b.t);
    if (!bs.length) return null;
    return {l: Math.min(...bs.map(b => b.l)), t: Math.min(...bs.map(b => b.t)),
            r: Math.max(...bs.map(b => b.r)), b: Math.max(...bs.map(b => b.b))};
  };
  return [...document.querySelectorAll('figure.klviz-online .js-plotly-plot')].map(gd => {
    const q = s => [...gd.querySelectorAll(s)];
    return {
      title: union(q('.infolayer .g-gtitle text')),
      legend: union(q('g.legend > .bg, g.legend .traces')),
      slider: union(q('g.slider-container')),
      plot: union([...q('.draglayer .nsewdrag'), ...q('.xaxislayer-above text, .yaxislayer-above text'),
                   ...q('.infolayer > g[class$="title"]:not(.g-gtitle) text'), ...q('.annotation')]),
    };
  });
}"""

MAX_CELL_LINES = 20
FIGURE_PARTS = ("title", "legend", "slider", "plot")


def overlap(a: dict, b: dict, tol: float = 0.5) -> bool:
    """Whether two boxes share more than a hairline (``tol`` pixels) in both directions."""
    return min(a["r"], b["r"]) - max(a["l"], b["l"]) > tol and min(a["b"], b["b"]) - max(a["t"], b["t"]) > tol


def check_code(page, rel: str, record, stats: dict, in_solutions: bool) -> None:
    """Code cells and printed outputs fit the column, in the theme's font, at most 20 lines, and
    no visible cell shows ``glue()`` bookkeeping (tag it remove-input)."""
    where = "in an opened solution" if in_solutions else "visible"
    found = page.evaluate(CODE_REPORT, in_solutions)
    theme = found["theme"]
    key = "solution" if in_solutions else "visible"
    stats[f"code_{key}"] = len(found["code"])
    stats[f"code_{key}_scroll"] = sum(c["scrollWidth"] > c["clientWidth"] for c in found["code"])
    stats[f"code_{key}_long"] = sum(c["lines"] > MAX_CELL_LINES for c in found["code"])
    stats[f"code_{key}_glue"] = sum(c["glue"] for c in found["code"])
    stats[f"output_{key}_scroll"] = sum(o["scrollWidth"] > o["clientWidth"] for o in found["outputs"])
    for c in found["code"]:
        cell = f"{rel}: {where} code cell {c['first']!r}"
        if c["whiteSpace"] != theme["whiteSpace"] or c["fontSize"] != theme["fontSize"]:
            record("code", f"{cell} has white-space {c['whiteSpace']} and font {c['fontSize']}; the theme's are "
                           f"{theme['whiteSpace']} and {theme['fontSize']} (shorten the lines, do not restyle)")
        if c["scrollWidth"] > c["clientWidth"]:
            record("code", f"{cell} scrolls sideways ({c['scrollWidth']} > {c['clientWidth']} px): shorten its lines")
        if c["lines"] > MAX_CELL_LINES:
            record("code", f"{cell} has {c['lines']} lines (at most {MAX_CELL_LINES}): split it, or check in one line "
                           "and move the full check to the tests")
        if c["glue"]:
            record("code", f"{cell} shows glue() bookkeeping: move it to a cell tagged remove-input")
    for o in found["outputs"]:
        if o["scrollWidth"] > o["clientWidth"]:
            record("code", f"{rel}: {where} output {o['tag']} {o['first']!r} scrolls sideways "
                           f"({o['scrollWidth']} > {o['clientWidth']} px): "
                           + ("fewer or narrower columns" if o["tag"] == "table" else "print less per line, or a table as HTML"))


def check_figure_boxes(page, rel: str, record, when: str) -> None:
    """Title, legend, slider and plot area of each kernel-free figure: present and pairwise disjoint."""
    for k, boxes in enumerate(page.evaluate(PLOTLY_BOXES)):
        name = f"{rel}: Plotly figure {k + 1} ({when})"
        missing = [part for part in FIGURE_PARTS if not boxes[part]]
        if missing:
            record("plotly-layout", f"{name} has no {', '.join(missing)}")
        for i, a in enumerate(FIGURE_PARTS):
            for b in FIGURE_PARTS[i + 1:]:
                if boxes[a] and boxes[b] and overlap(boxes[a], boxes[b]):
                    box = {p: [round(v) for v in boxes[p].values()] for p in (a, b)}
                    record("plotly-layout", f"{name}: the {a} and the {b} overlap, boxes (l, t, r, b) {box} "
                                            "(layout in klviz.viz.online)")


def _typed(value: float, tol: float) -> str:
    """How a reader would type ``value``: enough decimals to land well inside the tolerance."""
    return f"{value:.{max(0, math.ceil(-math.log10(tol))) + 1}f}"


def check_quiz(page, rel: str, record, stats: dict) -> None:
    """The self-check questions (klviz.quiz): answer one right and another wrong with real clicks;
    the feedback must say so, the hint must show only after the wrong answer and not contain it."""
    questions = page.locator(".klviz-quiz-q")
    stats["quiz"] = questions.count()
    if questions.count() < 3:
        record("quiz", f"{rel}: {questions.count()} self-check questions (klviz.quiz), at least 3 expected")
    if not questions.count():
        return
    cases = [(0, True), (min(1, questions.count() - 1), False)]
    for k, right in cases:
        q = questions.nth(k)
        key = q.evaluate("el => JSON.parse(atob(el.getAttribute('data-key')))")
        name = f"{rel}: question {q.get_attribute('id')}"
        q.scroll_into_view_if_needed()
        if q.get_attribute("data-kind") == "numeric":
            typed = _typed(key["v"], key["t"]) if right else _typed(key["v"] + 10 * key["t"] + 1, key["t"])
            q.locator(".klviz-quiz-input").fill(typed)
        else:
            n_options = q.locator("input[type=radio]").count()
            pick = key["a"] if right else (key["a"] + 1) % n_options
            q.locator(f"input[type=radio][value='{pick}']").check()
        q.locator(".klviz-quiz-check").click()
        feedback = q.locator(".klviz-quiz-feedback")
        want = "klviz-quiz-right" if right else "klviz-quiz-wrong"
        got = feedback.get_attribute("class") or ""
        if want not in got or not feedback.is_visible() or not feedback.inner_text().strip():
            record("quiz", f"{name}: a {'right' if right else 'wrong'} answer got feedback {got!r} "
                           f"{feedback.inner_text()!r} (klviz-quiz.js served? console errors?)")
        hint = q.locator(".klviz-quiz-hint")
        if hint.is_visible() == right:
            record("quiz", f"{name}: the hint is {'shown after a right' if right else 'hidden after a wrong'} answer")
        if not right and "v" in key and _typed(key["v"], 0.005) in hint.inner_text():
            record("quiz", f"{name}: the hint gives the answer away")


def luminance(css: str) -> float | None:
    m = re.match(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)", css)
    if not m:
        return None
    if m.group(4) is not None and float(m.group(4)) == 0:
        return None  # transparent: the page's own (dark) background shows through
    r, g, b = (float(m.group(k)) / 255 for k in (1, 2, 3))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def visit(page, url: str, rel: str, root: Path, shots: Path, record) -> dict:
    """Load one page and run every check on it; problems go to ``record(check, message)``."""
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(f"uncaught: {e}"))
    page.on("response", lambda r: console.append(f"HTTP {r.status} for {r.url}") if r.status >= 400 else None)
    stats: dict = {"page": rel}
    try:
        page.goto(url + rel, wait_until="load", timeout=30_000)
    except Exception as err:  # noqa: BLE001 - report the page and move on
        record("load", f"{rel}: did not load: {err}")
        return stats

    state = page.evaluate(WAIT_MATHJAX)
    if state == "MathJax never started":
        record("math", f"{rel}: the page has math but MathJax never started (is {url}_static/vendor/mathjax served?)")
    math = page.evaluate(MATH_REPORT)
    stats["math"] = math["containers"]
    if math["untypeset"]:
        record("math", f"{rel}: {len(math['untypeset'])} math elements not typeset, e.g. {math['untypeset'][:3]}")
    if math["containers"] and math["svg"] < math["containers"]:
        record("math", f"{rel}: {math['containers'] - math['svg']} math elements without SVG output")
    if math["errors"]:
        counts = {e: math["errors"].count(e) for e in math["errors"]}
        record("math", f"{rel}: MathJax could not typeset: " + "; ".join(f"{e} ({n}x)" for e, n in counts.items())
               + " (add missing macros to klviz.notation.MACROS)")
    if math["raw"]:
        record("math", f"{rel}: raw TeX left in the text: {math['raw']}")

    images = page.evaluate(IMAGE_REPORT)
    stats["images"] = len([i for i in images if i["inFigure"]])
    for img in images:
        if not img["ok"]:
            record("images", f"{rel}: image {img['src']} did not load")
        alt = (img["alt"] or "").strip()
        if img["inFigure"] and (len(alt.split()) < 3 or FILENAME_ALT.search(alt) or alt == img["src"]):
            record("images", f"{rel}: image {img['src']} has alt text {alt!r}; describe what it shows (cell metadata image.alt)")
    for label in page.eval_on_selector_all("figure.klviz-online", "els => els.map(e => e.getAttribute('aria-label') || '')"):
        if len(label.split()) < 3:
            record("images", f"{rel}: a Plotly figure has aria-label {label!r}; pass a describing alt= to klviz.viz.show")

    widgets = page.evaluate(WIDGET_REPORT)
    if widgets:
        record("widgets", f"{rel}: widget leftovers in the page: {widgets} (tag the explorer cell remove-output; use `from tqdm import tqdm`)")

    for problem in broken_links(root, rel):
        record("links", f"{rel}: {problem}")

    if is_chapter(rel):
        check_code(page, rel, record, stats, in_solutions=False)
        check_quiz(page, rel, record, stats)

    # folded solutions: hidden until their title is clicked
    sols = page.locator("div.solution.admonition, details.solution")
    stats["solutions"] = sols.count()
    for k in range(sols.count()):
        sol = sols.nth(k)
        heading = sol.locator(":scope > .admonition-title, :scope > summary").first
        name = f"solution {k + 1} ({heading.text_content().strip()!r})" if heading.count() else f"solution {k + 1}"
        body = sol.locator(":scope > :not(.admonition-title):not(summary):not(button)").first
        if not body.count():
            record("solutions", f"{rel}: {name} has no body")
            continue
        if body.is_visible():
            record("solutions", f"{rel}: {name} is not folded (add `:class: dropdown` to its solution-start)")
            continue
        opener = sol.locator(":scope > .admonition-title, :scope > summary, :scope button.toggle-button").first
        try:
            opener.click(timeout=5_000)
            body.wait_for(state="visible", timeout=5_000)
        except Exception:  # noqa: BLE001
            record("solutions", f"{rel}: clicking the title of {name} did not reveal it")

    if is_chapter(rel):
        check_code(page, rel, record, stats, in_solutions=True)
        check_figure_boxes(page, rel, record, "light theme, as loaded")

    # kernel-free sliders: every one must change its figure when moved
    n_plotly = page.locator("figure.klviz-online .js-plotly-plot").count()
    stats["plotly"] = n_plotly
    if is_chapter(rel) and n_plotly == 0:
        record("plotly", f"{rel}: no kernel-free Plotly slider (figure.klviz-online from klviz.viz.show) in this chapter")
    for k in range(n_plotly):
        plot = page.locator("figure.klviz-online .js-plotly-plot").nth(k)
        rail = plot.locator(".slider-rail-touch-rect").first
        if not rail.count():
            record("plotly", f"{rel}: Plotly figure {k + 1} has no slider")
            continue
        rail.scroll_into_view_if_needed()
        before = page.evaluate(SLIDER_STATE, k)
        box = rail.bounding_box()
        active = page.evaluate(
            "(i) => { const gd = document.querySelectorAll('figure.klviz-online .js-plotly-plot')[i];"
            " const s = gd.layout.sliders[0]; return [s.active || 0, s.steps.length]; }",
            k,
        )
        # click the far end of the rail from the active step (the first or the last step)
        x = box["x"] + (box["width"] - 3 if active[0] < active[1] / 2 else 3)
        page.mouse.click(x, box["y"] + box["height"] / 2)
        page.wait_for_timeout(150)
        if page.evaluate(SLIDER_STATE, k) == before:
            record("plotly", f"{rel}: moving the slider of Plotly figure {k + 1} did not change its visible traces")
    if n_plotly:
        check_figure_boxes(page, rel, record, "light theme, slider moved")

    if not shots.joinpath("intro.png").exists() and rel.endswith("intro.html"):
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(shots / "intro.png"))

    # dark theme: figures keep a light background (book/_static/klviz.css)
    page.evaluate("() => { document.documentElement.dataset.theme = 'dark'; document.documentElement.dataset.mode = 'dark'; }")
    if n_plotly:
        page.wait_for_timeout(100)
        check_figure_boxes(page, rel, record, "dark theme")
    for item in page.evaluate(BACKGROUNDS):
        lum = luminance(item["bg"])
        if lum is None or lum < 0.8:
            record("dark", f"{rel}: in the dark theme {item['what']} has background {item['bg']}; it must stay light")
    if is_chapter(rel) and not shots.joinpath("chapter-dark.png").exists():
        # the dark shot shows the first figure, the light one the chapter's opening
        page.evaluate("() => (document.querySelector('article figure img, article .cell_output img') || document.body).scrollIntoView({block: 'center'})")
        page.screenshot(path=str(shots / "chapter-dark.png"))
        page.evaluate("() => { document.documentElement.dataset.theme = 'light'; document.documentElement.dataset.mode = 'light'; window.scrollTo(0, 0); }")
        page.screenshot(path=str(shots / "chapter.png"))

    page.wait_for_timeout(50)  # late console errors from the page's own scripts
    for msg in console:
        record("console", f"{rel}: console error: {msg[:300]}")
    return stats


@pytest.fixture(scope="module")
def report(site):
    exe = chromium_path()
    if os.environ.get("CI"):
        # in CI the browser check must run, never skip: `make test` installs what it needs
        import playwright.sync_api as playwright  # noqa: F401  (an ImportError fails the test)

        assert exe is not None, "no Chromium in CI: `make browser` should have installed Debian's chromium"
    playwright = pytest.importorskip("playwright.sync_api")
    if exe is None:
        pytest.skip("no Chromium: run `make browser` (Debian's chromium) or set KLVIZ_CHROMIUM")
    url, root = site
    shots = root.parent / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    for old in ("intro.png", "chapter.png", "chapter-dark.png"):
        (shots / old).unlink(missing_ok=True)
    problems: dict[str, list[str]] = defaultdict(list)
    external: list[str] = []
    pages = book_pages(root)
    stats = []
    start = time.perf_counter()

    def route(r):
        parts = urlsplit(r.request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            external.append(r.request.url)
            r.abort()
        else:
            r.continue_()

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
            context.route("**/*", route)
            for rel in pages:
                page = context.new_page()
                before = len(external)
                stats.append(visit(page, url, rel, root, shots, lambda check, msg: problems[check].append(msg)))
                for req in dict.fromkeys(external[before:]):
                    problems["external"].append(f"{rel}: request to another host: {req}")
                page.close()
        finally:
            browser.close()
    elapsed = time.perf_counter() - start
    print(f"\nbrowser: {len(pages)} pages in {elapsed:.0f} s; screenshots in {shots}")
    for s in stats:
        print(f"  {s.get('page')}: math={s.get('math')} images={s.get('images')} solutions={s.get('solutions')} "
              f"plotly={s.get('plotly')} quiz={s.get('quiz')}")
        if "code_visible" in s:
            print(f"    code cells: {s['code_visible']} visible ({s['code_visible_scroll']} scroll sideways, "
                  f"{s['code_visible_long']} over {MAX_CELL_LINES} lines, {s['code_visible_glue']} show glue), "
                  f"{s['code_solution']} in solutions ({s['code_solution_scroll']} scroll, {s['code_solution_long']} long); "
                  f"outputs scrolling: {s['output_visible_scroll']} visible, {s['output_solution_scroll']} in solutions")
    # what the browser saw, for the record (the CI log and the release notes quote it)
    (shots / "browser-report.json").write_text(json.dumps(
        {"pages": len(pages), "seconds": round(elapsed, 1), "stats": stats,
         "problems": {k: v for k, v in problems.items() if v}}, indent=1, default=str))
    return {"problems": problems, "pages": pages, "stats": stats, "shots": shots}


def _check(report, name: str) -> None:
    found = report["problems"].get(name, [])
    assert not found, f"{len(found)} problem(s):\n" + "\n".join(found)


def test_pages_found(report):
    assert report["pages"], "no pages in the build"
    assert not report["problems"].get("load"), "\n".join(report["problems"]["load"])


def test_no_requests_to_other_hosts(report):
    _check(report, "external")


def test_no_console_errors(report):
    _check(report, "console")


def test_math_is_typeset(report):
    _check(report, "math")


def test_figures_load_and_have_alt_text(report):
    _check(report, "images")


def test_no_widget_leftovers(report):
    _check(report, "widgets")


def test_solutions_are_folded_and_open_on_click(report):
    _check(report, "solutions")


def test_internal_links_resolve(report):
    _check(report, "links")


def test_figures_stay_light_in_dark_theme(report):
    _check(report, "dark")


def test_chapters_have_working_plotly_sliders(report):
    _check(report, "plotly")


def test_code_cells_fit_the_page(report):
    """No code cell or printed output scrolls sideways at 1280x900 (visible or in an opened
    solution), none is over 20 lines, none in sight shows glue() bookkeeping."""
    _check(report, "code")


def test_self_check_questions_give_feedback(report):
    """On every chapter page one self-check question answered right and one wrong, by clicks:
    right/wrong feedback, the hint only after the wrong answer (requests to other hosts fail
    test_no_requests_to_other_hosts, script errors test_no_console_errors)."""
    _check(report, "quiz")


def test_plotly_title_legend_slider_and_plot_do_not_overlap(report):
    _check(report, "plotly-layout")


def test_screenshots_saved(report):
    shots = report["shots"]
    assert (shots / "intro.png").exists(), f"no screenshot of the intro in {shots}"
    if any(is_chapter(p) for p in report["pages"]):
        assert (shots / "chapter.png").exists() and (shots / "chapter-dark.png").exists()
