"""The page as a user drives it: clicks, drags, sliders, toggles, playback, keyboard,
links and the copied command; desktop and phone width, with screenshots."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pytest
from explore_helpers import assert_same_run, floats, write

import optviz
from optviz.api import explore


@pytest.fixture
def rosenbrock(open_page, tmp_path):
    path = write(explore("rosenbrock", "gd,momentum,adam", steps=300).html, tmp_path)
    return lambda fragment="", **kw: open_page(path, fragment, **kw)


def _state(o):
    return o.eval("optvizPage.state()")


def _results(o):
    return o.eval("optvizPage.results()")


def _number(text: str) -> float:
    """A readout number: '0.0123' or '-7.614×10⁻⁴'."""
    mantissa, _, exponent = text.partition("×10")
    return float(mantissa) * 10.0 ** int(exponent.translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")) or 0)


def _settle(o):
    o.page.wait_for_timeout(80)  # one animation frame: updates are applied on the next frame


def test_click_moves_the_start_and_the_paths_follow_numpy(rosenbrock):
    o = rosenbrock()
    before = _results(o)
    x, y = o.eval("optvizPage.pixel(0.5, 2.5)")
    o.page.mouse.click(x, y)
    _settle(o)
    (start,) = _state(o)["starts"]
    assert abs(start[0] - 0.5) < 0.02 and abs(start[1] - 2.5) < 0.02
    after = _results(o)
    assert after[0][0]["theta"][:2] == start and after != before
    ref = optviz.run("rosenbrock", "gd,momentum,adam", start=start, steps=300)
    for page_runs, traj in zip(after, ref.runs):
        assert_same_run(page_runs[0], traj, 0, f"after a click/{traj.optimizer}")


def test_shift_click_adds_a_start_and_drag_moves_one(rosenbrock):
    o = rosenbrock()
    x, y = o.eval("optvizPage.pixel(1.5, -0.5)")
    o.page.keyboard.down("Shift")
    o.page.mouse.click(x, y)
    o.page.keyboard.up("Shift")
    _settle(o)
    starts = _state(o)["starts"]
    assert len(starts) == 2 and starts[0] == [-1.5, 2.0]
    assert all(len(runs) == 2 for runs in _results(o))
    assert o.page.locator("#readout-start-row").is_visible()
    # drag the first start to (0, 0)
    x0, y0 = o.eval("optvizPage.pixel(-1.5, 2.0)")
    x1, y1 = o.eval("optvizPage.pixel(0.0, 0.0)")
    o.page.mouse.move(x0, y0)
    o.page.mouse.down()
    o.page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=4)
    o.page.mouse.move(x1, y1, steps=4)
    o.page.mouse.up()
    _settle(o)
    starts = _state(o)["starts"]
    assert len(starts) == 2 and max(abs(starts[0][0]), abs(starts[0][1])) < 0.02
    assert abs(starts[1][0] - 1.5) < 0.02


def test_lr_slider_changes_the_path_and_the_new_path_is_numpys(rosenbrock):
    o = rosenbrock()
    before = _results(o)[1]
    o.page.locator("#o1-lr").fill("-2.5")  # log10 scale: η = 10^-2.5
    _settle(o)
    lr = _state(o)["opts"][1]["lr"]
    assert lr == float(f"{10 ** -2.5:.4g}")
    after = _results(o)[1]
    assert after != before
    traj = optviz.run("rosenbrock", "momentum", lr=lr, steps=300).runs[0]
    assert_same_run(after[0], traj, 0, "momentum after the slider")
    # the slider answers the keyboard too
    o.page.locator("#o1-lr").focus()
    o.page.keyboard.press("ArrowRight")
    _settle(o)
    assert _state(o)["opts"][1]["lr"] > lr


def test_hyperparameter_and_schedule_controls(rosenbrock):
    o = rosenbrock()
    o.page.locator("#o2-beta1").fill("0.5")
    o.page.select_option("#schedule-kind", "exp")
    _settle(o)
    state = _state(o)
    assert state["opts"][2]["hyper"]["beta1"] == 0.5 and state["schedule"] == "exp:0.99"
    traj = optviz.run("rosenbrock", "adam", steps=300, schedule="exp:0.99", params={"beta1": 0.5}).runs[0]
    assert_same_run(_results(o)[2][0], traj, 0, "adam, β₁ = 0.5, exp:0.99")
    o.page.locator("#o2-eps").locator("xpath=..").locator("input[type=text]").fill("abc")
    o.page.locator("#o2-eps").locator("xpath=..").locator("input[type=text]").press("Enter")
    assert o.page.locator("[aria-invalid=true]").count() == 1
    assert _state(o)["opts"][2]["hyper"]["eps"] == 1e-8


def test_toggle_hides_an_optimizer_everywhere(rosenbrock):
    o = rosenbrock()
    o.page.get_by_label("GD", exact=True).uncheck()
    _settle(o)
    assert _results(o)[0] == []
    command = o.eval("optvizPage.command()")
    assert "--opt 'momentum(lr=0.001), adam(lr=0.1)'" in command and "gd(" not in command
    assert "off" in o.page.locator("#legend span").first.get_attribute("class")


def test_play_pause_step_and_the_readout_at_the_cursor(rosenbrock):
    o = rosenbrock()
    o.page.click("#play")
    o.page.wait_for_timeout(400)
    o.page.click("#play")
    cursor = _state(o)["cursor"]
    assert 0 < cursor < 300
    o.page.wait_for_timeout(200)
    assert _state(o)["cursor"] == cursor, "pause did not stop the cursor"
    o.page.click("#forward")
    assert _state(o)["cursor"] == cursor + 1
    o.page.locator("#cursor").fill("10")
    assert _state(o)["cursor"] == 10
    traj = optviz.run("rosenbrock", "adam", steps=300).runs[0]
    rows = dict(zip(o.page.locator(".opt").nth(2).locator("th").all_inner_texts(),
                    o.page.locator(".opt").nth(2).locator("td").all_inner_texts()))
    assert rows["step"] == "10"
    shown = [_number(v) for v in rows["m̂"].strip("()").split(", ")]
    np.testing.assert_allclose(shown, traj.state["m_hat"][10, 0], rtol=1e-4)
    o.page.click("#to-end")
    assert _state(o)["cursor"] == 300


def test_keyboard_moves_the_start_and_drives_playback(rosenbrock):
    o = rosenbrock()
    o.page.focus("#plot")
    o.page.keyboard.press("ArrowRight")
    o.page.keyboard.press("Shift+ArrowUp")
    _settle(o)
    (start,) = _state(o)["starts"]
    np.testing.assert_allclose(start, [-1.5 + 0.04, 2.0 + 0.4], rtol=1e-12)
    o.page.locator("#cursor").fill("5")
    o.page.locator("body").click(position={"x": 5, "y": 5})
    o.page.keyboard.press("ArrowLeft")
    assert _state(o)["cursor"] == 4
    # every control has an accessible name
    unnamed = o.eval("""Array.from(document.querySelectorAll('input, select, button')).filter(e =>
        !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()).map(e => e.id || e.outerHTML)""")
    assert unnamed == []


def test_a_link_reproduces_the_view(rosenbrock):
    o = rosenbrock()
    x, y = o.eval("optvizPage.pixel(1.0, -0.5)")
    o.page.mouse.click(x, y)
    o.page.locator("#o1-beta").fill("0.5")
    o.page.locator("#steps").fill("250")
    o.page.select_option("#schedule-kind", "cosine")
    o.page.get_by_label("GD", exact=True).uncheck()
    _settle(o)
    fragment = o.eval("location.hash")
    assert "start=" in fragment and "o1.beta=0.5" in fragment
    again = rosenbrock(fragment)
    first, second = _state(o), _state(again)
    for key in ("starts", "steps", "schedule", "tol", "seed"):
        assert first[key] == second[key], key
    assert [p["on"] for p in second["opts"]] == [False, True, True]
    assert _results(again) == _results(o)
    assert again.eval("document.getElementById('notice').hidden")


def test_the_copied_command_runs_the_same_paths(open_page, tmp_path, capsys):
    """Variants are written with --opt's own syntax; the command, run by optviz's own
    command line, draws the page's paths under the page's labels."""
    page = explore("rosenbrock", "gd, momentum(beta=0.5), momentum(beta=0.95, label=heavy)", steps=300)
    o = open_page(write(page.html, tmp_path))
    o.page.locator("#o1-beta").fill("0.75")
    o.page.locator("#o2-lr").fill("-3.5")
    o.page.select_option("#schedule-kind", "step")
    x, y = o.eval("optvizPage.pixel(0.5, 2.0)")
    o.page.mouse.click(x, y)
    _settle(o)
    command = o.eval("optvizPage.command()")
    assert command == o.page.locator("#command").inner_text()
    assert "not expressible" not in command and "-p " not in command
    o.page.click("#copy-command")
    o.page.wait_for_timeout(100)
    assert o.page.locator("#copied").inner_text() in ("Command copied.", "Copying is blocked here: select the text above and copy it.")
    args = shlex.split(command)
    assert args[:2] == ["optviz", "run"]
    opt = args[args.index("--opt") + 1]
    assert opt.startswith("gd(lr=") and "momentum(lr=0.001, beta=0.75)" in opt and "beta=0.95, label=heavy)" in opt
    from optviz.cli import main

    capsys.readouterr()
    main([*args[1:], "--json", "--no-plot"])
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [r["label"] for r in runs][2] == "heavy"
    page_runs = _results(o)
    assert len(runs) == len(page_runs) == 3
    for got, ref in zip(page_runs, runs):
        assert got[0]["steps"] == ref["steps"] and got[0]["status"] == ref["status"], ref["label"]
        path = floats(got[0]["theta"]).reshape(-1, 2)
        want = np.array(ref["trajectory"], dtype=float)
        assert path.shape == want.shape and np.allclose(path, want, rtol=1e-9, atol=1e-12), ref["label"]


def test_bad_link_values_are_ignored_and_named(rosenbrock):
    o = rosenbrock("#start=abc&steps=-5&o0.lr=-1&o7=on&o1.beta=2&schedule=exp:7&tol=x")
    state = _state(o)
    assert state["starts"] == [[-1.5, 2.0]] and state["steps"] == 300 and state["schedule"] == "constant"
    assert state["opts"][0]["lr"] == 0.001 and state["opts"][1]["hyper"]["beta"] == 0.9
    text = o.page.locator("#notice").inner_text()
    for key in ("start", "steps", "o0.lr", "o7", "o1.beta", "schedule", "tol"):
        assert key in text
    other = rosenbrock("#fn=beale&start=1,1")
    assert _state(other)["starts"] == [[-1.5, 2.0]]
    assert "another function" in other.page.locator("#notice").inner_text()


def test_one_dimensional_function(open_page, tmp_path):
    o = open_page(write(explore("xcos", "gd,adam", steps=200).html, tmp_path))
    x, y = o.eval("optvizPage.pixel(4.0, 0)")
    o.page.mouse.click(x, y)
    _settle(o)
    (start,) = _state(o)["starts"]
    assert len(start) == 1 and abs(start[0] - 4.0) < 0.1
    ref = optviz.run("xcos", "gd,adam", start=start, steps=200)
    for page_runs, traj in zip(_results(o), ref.runs):
        assert_same_run(page_runs[0], traj, 0, f"xcos/{traj.optimizer}")


@pytest.mark.parametrize("width, height, scale", [(1280, 900, 1), (390, 844, 2)])
def test_layout_fits_and_screenshots(rosenbrock, shots_dir, width, height, scale):
    o = rosenbrock(width=width, height=height, scale=scale)
    overflow = o.eval("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
    box = o.page.locator("#plot").bounding_box()
    assert box["width"] <= width and box["height"] > 150
    if width < 600:  # one column: the controls come after the picture
        assert o.page.locator(".controls").bounding_box()["y"] > box["y"] + box["height"]
    x, y = o.eval("optvizPage.pixel(0.0, 2.5)")
    o.page.mouse.click(x, y)
    _settle(o)
    o.page.screenshot(path=str(shots_dir / f"explore_{width}px.png"), full_page=True)
    assert (shots_dir / f"explore_{width}px.png").stat().st_size > 10_000
