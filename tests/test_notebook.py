"""Results in a notebook: one-line reprs, an HTML table with the figure, ``plot()``
returning a figure that displays itself, ``explore()`` inline, and the example notebook
executed headless in a real kernel."""

from __future__ import annotations

import base64
import html
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from matplotlib.figure import Figure

import optviz
from optviz.errors import OptvizError

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results():
    run = optviz.run("rosenbrock", "gd, momentum(beta=0.5, label=<b>heavy</b>), adam", steps=200)
    train = optviz.train("moons", "adam,momentum", arch="mlp", depth=2, width=8, epochs=3, samples=200,
                         landscape=True)
    return {
        "run": run, "compare": optviz.compare("beale", "gd,adam", steps=100),
        "sweep": optviz.sweep("rosenbrock", "gd,adam", lr="1e-4:1:9", steps=50),
        "basins": optviz.basins("himmelblau", "gd", grid=16, steps=50),
        "tune": optviz.tune("rosenbrock", "adam", steps=50), "train": train,
        "landscape": train.landscape, "xcos": optviz.run("xcos", "newton"),
        "curve": optviz.run("parabola", "gd,newton", steps=20), "many": optviz.run("x**2 + y**2 + z**2", "gd", steps=10),
    }


def test_every_repr_is_one_short_line(results):
    objects = list(results.values())
    objects += [results["run"].runs[0], results["sweep"].sweeps[0], results["basins"].basins[0],
                results["train"].first, results["train"].first.runs[0], results["landscape"].landscapes[0],
                results["landscape"].interpolations[0], results["run"].explore()]
    for obj in objects:
        text = repr(obj)
        assert "\n" not in text and len(text) <= 160, (type(obj).__name__, len(text), text[:300])
    assert repr(results["xcos"]) == ("<RunResult xcos: newton stopped at a maximum at step 6 "
                                     "(Hessian not positive definite at 4 step(s))>")


@pytest.mark.parametrize("name", ["run", "compare", "sweep", "basins", "tune", "train", "landscape", "xcos",
                                  "curve", "many"])
def test_html_is_a_table_and_the_figure(results, name):
    text = results[name]._repr_html_()
    assert "<table" in text and "</table>" in text
    head, _, png = text.partition('<img src="data:image/png;base64,')
    assert png, f"{name}: no figure"
    assert base64.b64decode(png.partition('"')[0])[:8] == PNG
    assert "<b>heavy</b>" not in head and html.escape("<b>heavy</b>") in results["run"]._repr_html_()


def test_plot_returns_a_figure_that_displays_itself(results):
    fig = results["run"].plot()
    assert isinstance(fig, Figure) and len(fig.axes) >= 1
    assert fig._repr_png_()[:8] == PNG
    assert len(results["run"].plot(kind="loss").axes) >= 3
    assert isinstance(results["curve"].plot(), Figure) and isinstance(results["many"].plot(), Figure)
    for res in ("sweep", "basins", "tune", "train", "landscape"):
        assert isinstance(results[res].plot(), Figure), res
    with pytest.raises(OptvizError, match="kind"):
        results["run"].plot(kind="pie")
    with pytest.raises(OptvizError, match="needs a function of 2 variable"):
        results["curve"].plot(kind="contour")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.show()  # outside a notebook, on Agg: no window, no error, no warning


def test_show_displays_in_ipython(results, monkeypatch):
    ipython = pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shown = []
    monkeypatch.setattr(ipython, "get_ipython", lambda: shell)
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    fig = results["run"].plot()
    fig.show()
    assert shown == [fig]
    data, _ = shell.display_formatter.format(fig)
    assert data["image/png"][:8] == PNG


def test_explore_shows_the_same_runs_inline(results):
    page = results["run"].explore()
    frame = page._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in frame
    assert "allow-same-origin" not in frame
    data = page.html
    assert '"label_arg":"\\u003cb\\u003eheavy\\u003c/b\\u003e"' in data and '"steps":200' in data
    xcos = results["xcos"].explore(steps=30)
    assert '"steps":30' in xcos.html
    with pytest.raises(OptvizError, match="one schedule"):
        optviz.run("rosenbrock", "gd, adam(schedule=exp:0.99)", steps=5).explore()


def test_importing_and_running_draws_nothing():
    code = ("import sys, optviz; r = optviz.run('rosenbrock', 'adam', steps=5); repr(r); "
            "print([m for m in ('matplotlib', 'IPython', 'PIL') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_dir_lists_the_api():
    names = dir(optviz)
    for name in ("run", "compare", "sweep", "basins", "tune", "train", "landscape", "explore", "RunResult"):
        assert name in names


@pytest.mark.slow
def test_the_example_notebook_runs_and_shows_its_results(tmp_path):
    import nbclient
    import nbformat

    nb = nbformat.read(ROOT / "examples" / "notebook.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    htmls = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    pngs = [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]
    assert any("<table" in h and "data:image/png;base64," in h for h in htmls)
    assert pngs and base64.b64decode(pngs[0])[:8] == PNG
    assert any(h.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in h for h in htmls)
    assert any("stopped at a maximum at step 6" in h for h in htmls)
    texts = [o.get("text", "") for o in outputs if o.output_type == "stream"]
    assert any(t.startswith("<RunResult rosenbrock:") for t in texts)
