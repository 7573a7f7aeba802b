"""Variants of one optimizer in one run: ``--opt "sgd, sgd(schedule=inverse:0.01, label=decayed)"``."""

import json
import subprocess
import sys

import numpy as np
import pytest

import optviz
from optviz.errors import OptvizError
from optviz.variants import parse_variants, split_top_level


def test_commas_inside_parentheses_do_not_split():
    assert split_top_level("sgd, sgd(schedule=warmup:5+cosine:100, label=decayed), adam") == [
        "sgd", "sgd(schedule=warmup:5+cosine:100, label=decayed)", "adam"]


def test_labels_name_the_runs_and_repeated_optimizers_are_told_apart_by_their_settings():
    v = parse_variants("momentum(beta=0.5), momentum(beta=0.9), adam, sgd(label=plain)")
    assert [x.label for x in v] == ["momentum(beta=0.5)", "momentum(beta=0.9)", "adam", "plain"]
    assert v[0].settings == {"beta": "0.5"} and v[3].name == "sgd"


@pytest.mark.parametrize("text, fragment", [
    ("sgd,sgd", "listed twice"),
    ("sgd(label=a), adam(label=a)", "labelled 'a'"),
    ("momentum(betta=0.5)", "did you mean beta"),
    ("sgd(lr=0.1", "without its ')'"),
    ("sgd)", "without its '('"),
    ("sgd(lr)", "is not KEY=VALUE"),
    ("sgd(lr=1, lr=2)", "given twice"),
    ("nope(lr=1)", "unknown optimizer"),
    ("sgd(label=\x1b[31mred)", "label is 1 to 60 characters"),
    ("", "no optimizer given"),
])
def test_bad_variants_are_refused_with_one_line(text, fragment):
    with pytest.raises(OptvizError) as info:
        parse_variants(text)
    assert fragment in str(info.value) and info.value.param == "opt"


def test_each_variant_runs_with_its_own_settings_and_label():
    res = optviz.run("least_squares", "sgd, sgd(schedule=inverse:0.01, label=decayed)", steps=300, seed=3)
    plain, decayed = res.runs
    assert (plain.label, decayed.label) == ("sgd", "decayed")
    assert plain.schedule == "constant" and decayed.schedule.startswith("inverse")
    np.testing.assert_allclose(decayed.lr[1:, 0], plain.lr[1, 0] / (1 + 0.01 * np.arange(300)))
    assert [r["label"] for r in res.to_json()["runs"]] == ["sgd", "decayed"]


def test_a_per_optimizer_schedule_by_param_is_a_schedule_not_a_crash():
    res = optviz.run("quadratic", "sgd,adam", params={"sgd.schedule": "exp:0.99"}, steps=20)
    assert res.runs[0].schedule == "exp:0.99" and res.runs[1].schedule == "constant"


def test_params_can_be_scoped_by_label():
    res = optviz.run("quadratic", "momentum(label=a), momentum(label=b)", params={"b.beta": "0.5"}, steps=5)
    assert [t.hyperparameters["beta"] for t in res.runs] == [0.9, 0.5]


def test_variants_in_sweep_basins_tune_and_compare_carry_their_labels():
    opt = "momentum(beta=0.5), momentum(beta=0.9, label=heavy)"
    sweep = optviz.sweep("quadratic", opt, lr="1e-3:0.1:4", steps=30)
    assert [s["label"] for s in sweep.to_json()["sweeps"]] == ["momentum(beta=0.5)", "heavy"]
    basins = optviz.basins("himmelblau", opt, grid=6, steps=50)
    assert [b.label for b in basins.basins] == ["momentum(beta=0.5)", "heavy"]
    tuned = optviz.tune("quadratic", opt, steps=30)
    assert list(tuned.lrs) == ["momentum(beta=0.5)", "heavy"]
    ranked = optviz.compare("quadratic", opt, steps=30, tune=True)
    assert [t.label for t in ranked.runs] == ["momentum(beta=0.5) (tuned)", "heavy (tuned)"]


def test_the_command_line_writes_two_labelled_runs_in_json_and_csv(tmp_path):
    csv = tmp_path / "runs.csv"
    out = subprocess.run([sys.executable, "-m", "optviz", "run", "--fn", "least_squares", "--opt",
                          "sgd, sgd(schedule=inverse:0.01, label=decayed)", "--no-plot", "--json", "--csv", str(csv),
                          "--steps", "20"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert [r["label"] for r in json.loads(out.stdout)["runs"]] == ["sgd", "decayed"]
    rows = csv.read_text().splitlines()
    assert {r.split(",")[0] for r in rows[1:]} == {"sgd", "decayed"}
