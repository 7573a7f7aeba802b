"""Memory stays bounded whatever the step budget; Ctrl-C keeps the steps computed."""

import json
import resource
import signal
import subprocess
import sys
import time

import numpy as np

import optviz
import optviz.recording as recording
from optviz.status import Status


def test_a_huge_step_budget_allocates_only_what_the_run_uses():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    res = optviz.run("sphere", "gd", steps=10**9)
    traj = res.runs[0]
    assert traj.status == [Status.CONVERGED] and traj.loss.shape[0] == int(traj.steps[0]) + 1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB


def test_past_its_budget_the_record_thins_itself_and_says_so(monkeypatch):
    monkeypatch.setattr(recording, "MAX_RECORD_BYTES", 64 * 1024)
    res = optviz.run("rosenbrock", "adam", lr=1e-3, steps=20_000, tol=0)
    traj = res.runs[0]
    assert traj.stride > 1 and traj.loss.shape[0] <= 64 * 1024 // 8
    steps = traj.steps_of_rows()
    assert steps[0] == 0 and steps[-1] == 20_000 and np.all(np.diff(steps) == traj.stride)
    doc = res.to_json()["runs"][0]
    assert doc["recorded_every"] == traj.stride and len(doc["trajectory"]) == traj.loss.shape[0]
    # every kept row is the point of that very step: the thinned record is a subsample
    monkeypatch.setattr(recording, "MAX_RECORD_BYTES", 2**28)
    exact = optviz.run("rosenbrock", "adam", lr=1e-3, steps=20_000, tol=0).runs[0]
    np.testing.assert_array_equal(traj.theta[:, 0], exact.theta[steps, 0])
    np.testing.assert_array_equal(traj.final_theta, exact.final_theta)


def test_ctrl_c_keeps_the_steps_computed_and_exits_130(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "optviz", "run", "--fn", "rosenbrock", "--opt", "adam,momentum",
                             "--lr", "1e-4", "--steps", "100000000", "--tol", "0", "--json", "--out", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # a runner may start the tests with SIGINT ignored; the child must see Ctrl-C
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(8)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("optviz: interrupted")
    run = json.loads(out)["runs"][0]
    assert run["status"] == "interrupted" and run["steps"] > 0
    assert len(run["trajectory"]) == run["steps"] // run["recorded_every"] + 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rosenbrock_adam_contour.png", "rosenbrock_adam_loss.png"]
