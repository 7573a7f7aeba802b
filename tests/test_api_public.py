"""The public API: one function per command, typed results, errors in keyword names."""

import subprocess
import sys

import numpy as np
import pytest

import optviz
from optviz.errors import OptvizError


def test_every_command_has_a_function_and_dir_lists_them():
    names = dir(optviz)
    for name in ("run", "compare", "sweep", "basins", "tune", "train", "landscape", "OptvizError", "Status"):
        assert name in names
        assert callable(getattr(optviz, name))


def test_the_api_attributes_are_functions_even_after_the_engines_are_imported():
    code = ("import optviz, optviz.batch, optviz.nn.train, optviz.nn.landscape\n"
            "print(all(callable(getattr(optviz, n)) and getattr(optviz, n).__module__.startswith('optviz.api')\n"
            "          for n in ('run', 'compare', 'sweep', 'basins', 'tune', 'train', 'landscape')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "True", out.stderr


def test_a_bad_lr_is_named_by_its_keyword_not_its_flag():
    with pytest.raises(OptvizError) as info:
        optviz.run("rosenbrock", "adam", lr=0)
    assert "lr must be > 0" in str(info.value) and "--lr" not in str(info.value)
    assert info.value.param == "lr"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("call, param", [
    (lambda: optviz.run("rosenbrock", "adam", steps=0), "steps"),
    (lambda: optviz.run("rosenbrock", "adam", seeds=0), "seeds"),
    (lambda: optviz.run("rosenbrock", "adam", start=[1, 2, 3]), "start"),
    (lambda: optviz.run("rosenbrock", "sgd", noise=-1), "noise"),
    (lambda: optviz.run("rosenbrock", "adam", tol=-1), "tol"),
    (lambda: optviz.compare("rosenbrock", sort="fastest"), "sort"),
    (lambda: optviz.sweep("rosenbrock", "gd", lr="1:1e-4:5"), "lr"),
    (lambda: optviz.basins("himmelblau", "gd", grid=1), "grid"),
    (lambda: optviz.tune("rosenbrock", "adam", metric="speed"), "metric"),
    (lambda: optviz.train("moons", "adam", epochs=0), "epochs"),
    (lambda: optviz.train("moons", "adam", depth=0), "depth"),
    (lambda: optviz.landscape("no-such-run.npz", resolution=2), "resolution"),
])
def test_errors_carry_the_parameter_and_speak_keyword_names(call, param):
    with pytest.raises(OptvizError) as info:
        call()
    assert info.value.param == param
    assert "--" not in str(info.value), str(info.value)


def test_the_command_line_names_the_same_error_by_its_flag():
    error = OptvizError("{batch_size} needs samples: add {noise} or use {plane=random} ({force=True})",
                        param="batch_size", names=("noise", "plane", "force"))
    assert str(error) == "batch_size needs samples: add noise or use plane='random' (force=True)"
    import typer

    from optviz.cli import app
    from optviz.cli.output import flag_namer

    rendered = error.render(flag_namer(typer.main.get_command(app)))
    assert rendered == "--batch-size needs samples: add --noise or use --plane random (--force)"


def test_braces_that_are_not_fields_stay_text():
    error = OptvizError("cannot read {x}/a{b}.toml for {lr}", param="lr")
    assert str(error) == "cannot read {x}/a{b}.toml for lr"


def test_results_of_sweep_basins_tune_and_compare_are_typed():
    ranked = optviz.compare("quadratic", "gd,adam", sort="f", steps=50)
    assert ranked.sort == "f" and [t.optimizer for t in ranked.runs] == ["gd", "adam"]
    sweep = optviz.sweep("quadratic", "momentum,nesterov", lr="1e-3:0.5:5", params={"beta": "0:0.9:3"}, steps=40)
    assert sweep.to_json()["sweeps"][1]["shape"] == [5, 3]
    assert set(sweep.sweeps[0].best_setting()) == {"lr", "beta"}
    basins = optviz.basins("himmelblau", "gd", grid=12, steps=200)
    assert basins.basins[0].labels.shape == (12, 12)
    assert abs(sum(basins.basins[0].shares().values()) - 1) < 1e-12
    tuned = optviz.tune("quadratic", "gd,adam", steps=60)
    assert set(tuned.lrs) == {"gd", "adam"} and all(lr > 0 for lr in tuned.lrs.values())
    again = optviz.run("quadratic", "gd", lr=tuned.lrs["gd"], steps=60)
    assert np.isfinite(again.runs[0].final_loss[0])


def test_train_and_landscape_from_python(tmp_path):
    report = optviz.train("moons", "adam,momentum", arch="mlp", depth=2, width=8, epochs=3, seeds=2,
                          samples=120, save_weights=True)
    assert len(report.results) == 2 and not report.interrupted
    run = report.first.runs[0]
    assert run.outcome.status is optviz.Status.OK and run.status == "ok"
    assert report.first.settings.epochs == 3 and report.to_json()["settings"]["epochs"] == 3
    lands = optviz.landscape(report, plane="random", resolution=3)
    assert [land.optimizer for land in lands.landscapes] == ["adam", "momentum"]
    assert lands.interpolations and lands.result is report.first
