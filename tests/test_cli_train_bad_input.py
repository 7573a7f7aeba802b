"""Bad ``optviz train`` / ``optviz landscape`` command lines (issue "Hardening"): each exits
2 with exactly one line on stderr naming the problem, no traceback, and no file in --out.

The big tables call ``optviz.cli.main(argv)`` in this process (an exception other than
SystemExit fails the test just as a traceback would); a few representative lines also
run as real ``python -m optviz`` subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SMALL = ["--data", "moons", "--arch", "mlp", "--depth", "2", "--width", "8", "--epochs", "2"]


def _env() -> dict[str, str]:
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def optviz(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "optviz", *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def cli(capfd, monkeypatch):
    """Run ``optviz ARGS`` in this process from ``cwd``; a CompletedProcess-like result."""

    def call(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
        from optviz.cli import main

        monkeypatch.chdir(cwd)
        capfd.readouterr()
        try:
            code = main(args)
        except SystemExit as exc:
            code = exc.code
        out, err = capfd.readouterr()
        return subprocess.CompletedProcess(["optviz", *args], code or 0, out, err)

    return call


def assert_refused(proc: subprocess.CompletedProcess, fragments: tuple[str, ...], out: Path) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, f"stderr must be exactly one line, got {proc.stderr!r}"
    assert lines[0].startswith("optviz: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert proc.stdout == ""
    assert not out.exists() or list(out.iterdir()) == [], sorted(p.name for p in out.iterdir())
    return lines[0]


# --------------------------------------------------------------------------- train

BAD_CSV = "a,b,label\n1,2,0\n3,x7,1\n4,5,0\n5,6,1\n"
GOOD_CSV = "a,b,label\n1,2,0\n3,7,1\n4,5,0\n5,6,1\n"

TRAIN_BAD = [
    (["--data", "mnist"], ("--data", "mnist", "moons")),
    (["--data", "missing.csv"], ("missing.csv", "no such file")),
    (["--data", "bad.csv"], ("column 'b'", "row 2", "x7")),
    (["--data", "good.csv", "--target", "klass"], ("klass", "columns are")),
    (["--data", "moons", "--opt", "newton"], ("newton", "Hessian")),
    (["--data", "moons", "--opt", "adam,adamz"], ("unknown optimizer", "adamz")),
    (["--data", "moons", "--lr", "0"], ("--lr",)),
    (["--data", "moons", "--lr", "nan"], ("--lr",)),
    (["--data", "moons", "--lr", "inf"], ("lr",)),
    (["--data", "moons", "-p", "lr=0"], ("lr",)),
    (["--data", "moons", "-p", "adam.beta1=2"], ("beta1",)),
    (["--data", "moons", "--epochs", "0"], ("--epochs",)),
    (["--data", "moons", "--batch-size", "0"], ("--batch-size",)),
    (["--data", "moons", "--depth", "0"], ("--depth",)),
    (["--data", "moons", "--width", "0"], ("--width",)),
    (["--data", "moons", "--seeds", "0"], ("--seeds",)),
    (["--data", "moons", "--dropout", "1.0"], ("--dropout",)),
    (["--data", "moons", "--format", "jpg"], ("--format", "jpg")),
    (["--data", "moons", "--animate", "gif"], ("--landscape",)),
    (["--data", "moons", "--landscape", "--resolution", "2"], ("--resolution",)),
    (["--data", "moons", "--schedule", "exp:5"], ("exp:5",)),
    (["--data", "moons", "-p", "nosuch=3"], ("nosuch",)),
    (["--data", "moons", "--arch", "transformer"], ("--arch",)),
    (["--data", "moons", "--record-every", "0"], ("--record-every",)),
    (["--data", "moons", "--weight-decay", "-1"], ("--weight-decay",)),
    (["--data", "moons", "--save-run", "nodir/run.npz"], ("nodir",)),
    (["--data", "moons", "--noise", "-1"], ("noise",)),
    (["--data", "moons", "--noise", "nan", "--arch", "mlp", "--depth", "1", "--epochs", "1"], ("noise",)),
    (["--data", "moons", "--samples", "3"], ("3",)),
    (["--data", "moons", "--target", "label"], ("--target", "moons")),
    (["--data", "digits", "--samples", "50"], ("--samples", "digits")),
    (["--data", "good.csv", "--noise", "0.1"], ("--noise", "CSV")),
    (["--data", "moons", "--norm", "bn,,none"], ("--norm", "empty entry")),
    (["--data", "moons", "--norm", "bn,batchnorm"], ("--norm", "batchnorm", "bn, gn, in, ln, none")),
    (["--data", "moons", "--arch", "mlp,mlp"], ("--arch", "twice")),
    (["--data", "moons", "--depth", "2,x"], ("--depth", "'x'")),
    (["--data", "moons", "--lr", "0.1,-1"], ("--lr", "-1")),
    (["--data", "moons", "--batch-size", "8,0"], ("--batch-size",)),
    (["--data", "moons", "--opt", "sgd", "--lr", "0.1,1", "-p", "lr=0.5"], ("--lr", "--param")),
    (["--data", "moons", "--norm", "none", "--eval-bn", "running,batch"], ("--eval-bn", "--norm bn")),
    (["--data", "moons", "--eval-bn", "batch:1"], ("--eval-bn", "2 or more")),
    (["--data", "moons", "--eval-bn", "mean"], ("--eval-bn", "'mean'")),
    (["--data", "moons", "--threads", "0"], ("--threads",)),
    (["--data", "moons", "--norm", "bn,none", "--save-run", "run.npz"], ("--save-run", "--norm")),
    (["--data", "moons", "--seed", "-1"], ("--seed", "≥ 0")),
    (["--data", "moons", "--width", "2000", "--depth", "20", "--save-run", "run.npz"],
     ("--save-run", "over its budget of 512 MiB", "--record-every")),
]


@pytest.mark.parametrize("args, fragments", TRAIN_BAD, ids=[" ".join(a)[:50] for a, _ in TRAIN_BAD])
def test_bad_train_command_line(args, fragments, tmp_path, cli):
    (tmp_path / "bad.csv").write_text(BAD_CSV)
    (tmp_path / "good.csv").write_text(GOOD_CSV)
    out = tmp_path / "out"
    proc = cli(["train", *args, "--out", str(out)], tmp_path)
    assert_refused(proc, fragments, out)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "out") == ["bad.csv", "good.csv"]


def test_huge_batch_size_is_clamped_with_a_note(tmp_path):
    out = tmp_path / "out"
    proc = optviz(["train", *SMALL, "--batch-size", "100000", "--no-plot", "--out", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "note: batch size 100000 is larger than the 160 training samples; using 160" in proc.stdout
    proc = optviz(["train", *SMALL, "--batch-size", "100000", "--no-plot", "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    assert doc["settings"]["batch_size"] == 160
    assert any("using 160" in n for n in doc["settings"]["notes"])
    assert "note: batch size 100000" in proc.stderr
    assert not out.exists()


def test_landscape_of_a_one_epoch_run_is_drawn_or_refused_up_front(tmp_path):
    """One epoch records two snapshots, a path of one direction: either draw a landscape
    anyway, or refuse before training (exit 2, one line naming the CLI's --plane)."""
    out = tmp_path / "out"
    proc = optviz(["train", *SMALL[:-1], "1", "--landscape", "--resolution", "5", "--out", str(out)],
                  tmp_path)
    if proc.returncode == 0:
        assert any("landscape" in p.name for p in out.iterdir())
        return
    line = assert_refused(proc, (), out)
    assert "plane='random'" not in line, f"the message should speak CLI (--plane random): {line}"


def test_landscape_after_every_optimizer_diverged(tmp_path):
    """Divergence is a status: report it and skip the landscape (exit 0), or refuse (exit 2)
    without leaving figures behind."""
    out = tmp_path / "out"
    proc = optviz(["train", *SMALL, "--opt", "sgd", "--lr", "1e10", "--landscape", "--resolution", "5",
                   "--out", str(out)], tmp_path)
    assert "Traceback" not in proc.stderr
    if proc.returncode == 0:
        assert "diverged at epoch 1" in proc.stdout
        return
    assert_refused(proc, ("diverged",), out)


# --------------------------------------------------------------------------- landscape


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("saved")
    path = where / "run.npz"
    proc = optviz(["train", *SMALL[:-1], "3", "--opt", "adam,momentum", "--no-plot", "--json",
                   "--save-run", str(path)], where)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return path


def _rewrite(src: Path, dst: Path, change) -> Path:
    with np.load(src) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(str(arrays["meta"]))
    new_meta = change(arrays, meta)
    arrays["meta"] = np.array(json.dumps(meta if new_meta is None else new_meta))
    with open(dst, "wb") as f:
        np.savez_compressed(f, **arrays)
    return dst


def _spec(**changes):
    def change(arrays, meta):
        meta["model_spec"].update(changes)

    return change


def _nan_snapshots(arrays, meta):
    arrays["run0/snapshots"] = np.full_like(arrays["run0/snapshots"], np.nan)


def _make(kind: str, saved: Path, where: Path) -> Path:
    path = where / f"{kind}.npz"
    if kind == "truncated":
        data = saved.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "corrupt":
        data = bytearray(saved.read_bytes())
        middle = len(data) // 2
        data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
        path.write_bytes(bytes(data))
    elif kind == "random":
        path.write_bytes(np.random.default_rng(0).bytes(3000))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "foreign":
        with open(path, "wb") as f:
            np.savez_compressed(f, x=np.arange(3))
    elif kind == "other-arch":
        _rewrite(saved, path, _spec(arch="resnet"))
    elif kind == "other-width":
        _rewrite(saved, path, _spec(width=32))
    elif kind == "unknown-arch":
        _rewrite(saved, path, _spec(arch="transformer"))
    elif kind == "huge-width":
        _rewrite(saved, path, _spec(width=10**12))
    elif kind == "meta-list":
        _rewrite(saved, path, lambda arrays, meta: [1, 2])
    elif kind == "nan-snapshots":
        _rewrite(saved, path, _nan_snapshots)
    elif kind == "directory":
        path = where / "a-directory"
        path.mkdir()
    elif kind == "missing":
        pass
    else:  # pragma: no cover
        raise AssertionError(kind)
    return path


LANDSCAPE_BAD = [
    ("missing", ("no such file",)),
    ("directory", ("directory",)),
    ("empty", ("not a readable optviz run file",)),
    ("truncated", ("truncated",)),
    ("corrupt", ("corrupt",)),
    ("random", ("not a readable optviz run file",)),
    ("foreign", ("not an optviz run file",)),
    ("other-arch", ("do not fit", "resnet")),
    ("other-width", ("do not fit",)),
    ("unknown-arch", ("transformer",)),
    ("huge-width", ()),
    ("meta-list", ()),
    ("nan-snapshots", ()),
]


@pytest.mark.parametrize("kind, fragments", LANDSCAPE_BAD, ids=[k for k, _ in LANDSCAPE_BAD])
def test_bad_run_file(kind, fragments, saved_run, tmp_path, cli):
    path = _make(kind, saved_run, tmp_path)
    out = tmp_path / "out"
    proc = cli(["landscape", str(path), "--resolution", "5", "--out", str(out)], tmp_path)
    line = assert_refused(proc, fragments, out)
    assert path.name in line, f"the message should name the file: {line}"


LANDSCAPE_OPTIONS = [
    (["--resolution", "2"], ("--resolution",)),
    (["--resolution", "100000"], ("--resolution",)),
    (["--format", "jpg"], ("--format",)),
    (["--animate", "mp4"], ("--animate",)),
    (["--dpi", "0"], ("--dpi",)),
    (["--plane", "diagonal"], ("--plane",)),
]


@pytest.mark.parametrize("args, fragments", LANDSCAPE_OPTIONS, ids=[" ".join(a) for a, _ in LANDSCAPE_OPTIONS])
def test_bad_landscape_options(args, fragments, saved_run, tmp_path, cli):
    out = tmp_path / "out"
    proc = cli(["landscape", str(saved_run), *args, "--out", str(out)], tmp_path)
    assert_refused(proc, fragments, out)


END_TO_END = [
    ["train", "--data", "bad.csv"],
    ["train", "--data", "moons", "--opt", "newton"],
    ["train", "--data", "moons", "-p", "lr=0"],
    ["landscape", "truncated.npz"],
    ["landscape", "meta-list.npz"],
]


@pytest.mark.parametrize("args", END_TO_END, ids=" ".join)
def test_bad_input_end_to_end(args, saved_run, tmp_path):
    """The same contract through a real ``python -m optviz`` process."""
    (tmp_path / "bad.csv").write_text(BAD_CSV)
    if args[0] == "landscape":
        _make(Path(args[1]).stem, saved_run, tmp_path)
    out = tmp_path / "out"
    proc = optviz([*args, "--out", str(out)], tmp_path)
    assert_refused(proc, (), out)
