"""Building the page in Python: self-contained, small, escaped, checked like `optviz run`."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys

import pytest

import optviz
from optviz.api import explore
from optviz.errors import OptvizError
from optviz.explorer import ExplorePage
from optviz.explorer.page import ASSETS, asset, build_page, script_json, write_page
from optviz.library import function_names, load_function
from optviz.objective import objective_from_formula

SCRIPT = re.compile(r"<script(?: type=\"application/json\" id=\"optviz-data\")?>(.*?)</script>", re.S)


def _data(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="optviz-data">(.*?)</script>', html, re.S).group(1))


@pytest.mark.parametrize("name", function_names())
def test_every_library_function_makes_a_small_self_contained_page(name):
    html = explore(name, "gd,momentum,adam").html
    assert len(html.encode()) <= 500_000
    assert not re.search(r"https?://|//[a-z0-9-]+\.[a-z]{2,}/", html, re.I), "a URL in a page that must load nothing"
    assert html.count("<script") == 4 and "src=" not in html.replace('img-src', '')
    assert "@import" not in html and "url(" not in html


def test_csp_allows_exactly_the_pages_own_scripts_and_style():
    html = explore("beale", "adam").html
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "default-src 'none'" in csp and "connect-src" not in csp and "unsafe" not in csp
    scripts = [m.group(1) for m in re.finditer(r"<script>(.*?)</script>", html, re.S)]
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    for text in [*scripts, style]:
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert len(re.findall(r"sha256-", csp)) == len(scripts) + 1


def test_json_data_cannot_end_its_script_block():
    data = {"t": "</script><!-- <script> & \u2028\u2029 ]]>", "n": [1.5, -2e-300]}
    text = script_json(data)
    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == data


def test_page_data_hold_run_settings_and_the_functions_data():
    html = explore("least_squares", "sgd,minibatch,newton", steps=77, seed=3, schedule="exp:0.99").html
    data = _data(html)
    assert data["steps"] == 77 and data["seed"] == 3 and data["schedule"] == "exp:0.99"
    obj = load_function("least_squares")
    assert data["finite_sum"]["rows"] == obj.finite_sum.data.tolist()
    sgd, mb, newton = data["optimizers"]
    assert sgd["oracle"] == {} and mb["oracle"] == {"batch_size": 10}
    assert newton["hyper"] == {"damping": 0.0, "safeguard": "none"}
    ref = optviz.run("least_squares", "sgd,minibatch,newton", steps=1)
    assert [o["lr"] for o in data["optimizers"]] == [t.hyperparameters["lr"] for t in ref.runs]
    assert data["critical_points"] == [{"point": list(obj.minima[0].point), "value": obj.minima[0].value, "kind": "minimum"}]


@pytest.mark.parametrize("call", [
    dict(opt="adamm"), dict(opt="adam,adam"), dict(lr=-1.0), dict(lr=float("nan")),
    dict(start=[1.0, 2.0, 3.0]), dict(start=[[1.0, float("inf")]]), dict(steps=0),
    dict(schedule="exp:2"), dict(schedule="banana"), dict(batch_size=5), dict(noise=-1.0),
    dict(params={"betaa": 0.5}), dict(params={"adam.beta1": 1.5}), dict(params={"momentum.beta": 0.5}),
])
def test_bad_options_are_refused_with_runs_messages(call):
    kw = {"opt": "adam", **call}
    opt = kw.pop("opt")
    with pytest.raises(OptvizError) as by_run:
        optviz.run("rosenbrock", opt, **kw)
    with pytest.raises(OptvizError) as by_page:
        explore("rosenbrock", opt, **kw)
    assert str(by_page.value) == str(by_run.value)


def test_what_the_page_cannot_show_is_refused_clearly():
    with pytest.raises(OptvizError, match="1 or 2 variables; .* has 3"):
        explore("x**2 + y**2 + z**2", "gd")
    with pytest.raises(OptvizError, match="2 label\\(s\\) for 1 optimizer"):
        explore("rosenbrock", "gd", labels=["a", "b"])
    with pytest.raises(OptvizError, match="noise is for functions without samples"):
        explore("least_squares", "sgd", noise=1.0)
    obj = load_function("rosenbrock")
    with pytest.raises(OptvizError, match="at most 8 start points"):
        build_page(obj, [("gd", "gd", 0.001, {})], starts=[[0.0, 0.0]] * 9, steps=10)
    with pytest.raises(OptvizError, match="critical point needs 2"):
        build_page(obj, [("gd", "gd", 0.001, {})], starts=[0.0, 0.0], steps=10, critical_points=[{"point": [1.0]}])
    with pytest.raises(OptvizError, match="has no parameter 'noise'"):
        build_page(obj, [("gd", "gd", 0.001, {"noise": 1.0})], starts=[0.0, 0.0], steps=10)
    with pytest.raises(OptvizError, match="between 1 and 100000"):
        build_page(obj, [("gd", "gd", 0.001, {})], starts=[0.0, 0.0], steps=10**6)


def test_critical_points_are_drawn_as_given():
    obj = objective_from_formula("x**2 - y**2")
    html = build_page(obj, [("GD", "gd", 0.1, {})], starts=[1.0, 0.5], steps=20,
                      critical_points=[{"point": (0.0, 0.0), "kind": "saddle", "value": 0.0}])
    data = _data(html)
    assert data["critical_points"] == [{"point": [0.0, 0.0], "kind": "saddle", "value": 0.0}]
    lo, hi = data["domain"][0]
    assert lo < 0.0 < 1.0 < hi, "the box holds the start and the saddle"
    assert data["function"]["spec"] == "x**2 - y**2"


def test_write_page_is_atomic_and_save_names_the_file(tmp_path):
    page = explore("himmelblau", "gd,adam", steps=50)
    assert repr(page).startswith("ExplorePage('himmelblau', ") and len(repr(page)) < 60
    path = page.save(tmp_path)
    assert path == tmp_path / "himmelblau_explore.html" and path.read_text(encoding="utf-8") == page.html
    assert page.save(tmp_path / "mine.html").name == "mine.html"
    target = tmp_path / "bad.html"
    with pytest.raises(OptvizError):
        write_page(target, objective_from_formula("x*y*z"), [("gd", "gd", 0.1, {})], starts=[1, 1, 1], steps=5)
    assert not target.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    with pytest.raises(OptvizError, match="does not exist"):
        write_page(tmp_path / "missing" / "p.html", load_function("rosenbrock"), [("gd", "gd", 0.1, {})],
                   starts=[0, 0], steps=5)
    assert isinstance(page, ExplorePage) and "<iframe srcdoc=" in page._repr_html_()


def test_the_assets_ship_with_the_package():
    for name in ASSETS:
        assert len(asset(name)) > 500, name


def test_the_page_scripts_never_evaluate_data():
    for name in (n for n in ASSETS if n.endswith(".js")):
        text = asset(name)
        for banned in ("eval(", "new Function", "innerHTML", "outerHTML", "insertAdjacentHTML",
                       "document.write", "setAttribute(\"style\"", "setTimeout(\"", "srcdoc"):
            assert banned not in text, f"{name} uses {banned}"


def test_importing_the_page_package_is_light():
    code = ("import sys, optviz.explorer, optviz.explorer.page, optviz.explorer.jscode, optviz.explorer.background; "
            "print([m for m in ('numpy', 'sympy', 'matplotlib', 'PIL') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_the_wheel_ships_the_page_assets(tmp_path):
    import zipfile
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-w", str(tmp_path), str(root)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = set(zipfile.ZipFile(next(tmp_path.glob("optviz-*.whl"))).namelist())
    assert {f"optviz/explorer/{name}" for name in ASSETS} <= names
