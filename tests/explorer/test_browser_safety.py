"""Hostile titles, labels, file names and links: the page shows them as text and runs nothing."""

from __future__ import annotations

from explore_helpers import write

from optviz.api import explore
from optviz.explorer.page import build_page
from optviz.library import load_function

HOSTILE_TITLE = "</script><script>window.pwned=1</script>"
HOSTILE_LABELS = ['<img src=x onerror="window.pwned=2">', '"><svg onload=window.pwned=3>', "</style><script>window.pwned=4</script>"]
NO_MARKUP = "document.querySelectorAll('img, svg, iframe, object, embed').length"


def _check_nothing_ran(o):
    assert o.eval("typeof window.pwned") == "undefined"
    assert o.eval(NO_MARKUP) == 0
    assert o.eval("document.scripts.length") == 4


def test_hostile_title_and_labels_are_shown_as_text(open_page, tmp_path):
    obj = load_function("rosenbrock")
    entries = [(label, name, lr, {}) for label, (name, lr) in zip(HOSTILE_LABELS, [("gd", 1e-3), ("momentum", 1e-3), ("adam", 0.1)])]
    html = build_page(obj, entries, starts=obj.start, steps=100, title=HOSTILE_TITLE)
    assert html.count("<script") == 4 and HOSTILE_TITLE not in html
    assert not any(label in html for label in HOSTILE_LABELS)
    o = open_page(write(html, tmp_path))
    _check_nothing_ran(o)
    assert o.page.locator("h1").inner_text() == HOSTILE_TITLE
    assert o.page.title() == HOSTILE_TITLE
    assert o.page.locator("#legend span").all_inner_texts() == HOSTILE_LABELS
    assert [t.strip() for t in o.page.locator(".opt legend").all_inner_texts()] == HOSTILE_LABELS


def test_a_hostile_file_name_is_shown_as_text(open_page, tmp_path):
    source = load_function("himmelblau")
    name = '<img src=x onerror="window.pwned=5">'
    path = tmp_path / f"{name}.toml"
    path.write_text(f'expression = "{source.formula_text}"\ndomain = [[-5.0, 5.0], [-5.0, 5.0]]\n', encoding="utf-8")
    page = explore(str(path), "gd,adam", steps=50)
    assert name not in page.html
    o = open_page(write(page.html, tmp_path, "page.html"))
    _check_nothing_ran(o)
    assert name in o.page.locator("h1").inner_text()
    assert str(path) in o.eval("optvizPage.command()")


def test_a_hostile_fragment_is_only_data(open_page, tmp_path):
    path = write(explore("rosenbrock", "gd,adam", steps=100).html, tmp_path)
    fragment = ("#start=</script><script>window.pwned=1</script>"
                "&o0=<img src=x onerror=window.pwned=1>"
                "&o1.lr=javascript:window.pwned=1"
                "&schedule=<svg onload=window.pwned=1>"
                "&%3Cimg%20src%3Dx%20onerror%3Dwindow.pwned%3D1%3E=1"
                "&o1.beta1=constructor&o1.__proto__=1&tol=1e999")
    o = open_page(path, fragment)
    _check_nothing_ran(o)
    state = o.eval("optvizPage.state()")
    assert state["starts"] == [[-1.5, 2.0]] and state["schedule"] == "constant" and state["tol"] == 1e-6
    notice = o.page.locator("#notice").inner_text()
    assert "<img src=x onerror=window.pwned=1>" in notice  # named, as text
    # a hostile link typed into the address bar of an open page is handled the same way
    o.eval("location.hash = 'start=1,1&o0=<img src=x onerror=window.pwned=1>'")
    o.page.wait_for_timeout(100)
    _check_nothing_ran(o)
    assert o.eval("optvizPage.state()")["starts"] == [[1, 1]]
