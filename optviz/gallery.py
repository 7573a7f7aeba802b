"""The gallery: every picture in ``gallery/`` with the exact command that made it.

``optviz gallery`` runs each entry's command through the same CLI code a user
runs, into the gallery directory, and writes ``gallery/README.md`` listing
every file with its command. Entries can be selected by name.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    name: str
    caption: str
    args: tuple[str, ...]

    def command(self, out: str = "gallery") -> str:
        shown = [f'"{a}"' if any(c in a for c in " *()|") else a for a in self.args]
        return " ".join(["optviz", *shown, "--out", out])


FIRST_ORDER = "gd,momentum,nesterov,adagrad,rmsprop,adam"

ENTRIES: tuple[Entry, ...] = (
    Entry("rosenbrock-compare", "Every first-order optimizer on Rosenbrock's curved valley, suggested settings.",
          ("compare", "--fn", "rosenbrock", "--opt", FIRST_ORDER)),
    Entry("rosenbrock-adam-state", "Adam on Rosenbrock with its state: m̂, v̂ and the effective per-coordinate step.",
          ("run", "--fn", "rosenbrock", "--opt", "adam", "--show-state")),
    Entry("beale-compare", "Beale: flat plateaus and steep walls.",
          ("compare", "--fn", "beale", "--opt", FIRST_ORDER)),
    Entry("himmelblau-starts", "Himmelblau: four minima; Adam and momentum from four starts.",
          ("run", "--fn", "himmelblau", "--opt", "momentum,adam", "--start", "0,0", "--start", "-1,-1",
           "--start", "1,-3", "--start", "-4,0")),
    Entry("rastrigin-compare", "Rastrigin: a grid of local minima traps every method.",
          ("compare", "--fn", "rastrigin", "--opt", FIRST_ORDER)),
    Entry("ill-conditioned", "x₁² + 2x₂² style ill conditioning: GD zig-zags, momentum and Adam don't.",
          ("compare", "--fn", "ill_conditioned", "--opt", "gd,momentum,rmsprop,adam")),
    Entry("ill-conditioned-gif", "The same as an animation.",
          ("run", "--fn", "ill_conditioned", "--opt", "gd,momentum,adam", "--animate", "gif", "--frames", "50",
           "--dpi", "60")),
    Entry("rosenbrock-gif", "Momentum and Adam racing along Rosenbrock's valley.",
          ("run", "--fn", "rosenbrock", "--opt", "momentum,nesterov,adam", "--animate", "gif", "--frames", "60",
           "--dpi", "60")),
    Entry("newton-xcos", "Newton's method on x·cos(0.15πx) from x = 10 walks to a maximum; GD goes down.",
          ("run", "--fn", "xcos", "--opt", "newton,gd")),
    Entry("newton-concave", "Newton from inside the shaded region where f'' < 0 climbs to the maximum; GD goes "
          "down to the lowest minimum. Critical points found for a typed formula, f* the lowest found.",
          ("run", "--fn", "x**4 - 3*x**2 + x", "--opt", "newton,gd", "--start=-0.3", "--show-convexity")),
    Entry("himmelblau-convexity", "Himmelblau's critical points (four minima, four saddles, a maximum) and where it "
          "is not convex.", ("run", "--fn", "himmelblau", "--opt", "gd,adam", "--start", "0,0", "--start",
                              "-1,-1", "--show-convexity")),
    Entry("newton-cosh", "Newton on cosh(0.5x): quadratic convergence.",
          ("run", "--fn", "cosh", "--opt", "newton,gd")),
    Entry("newton-parabola", "Newton on x²: one step.",
          ("run", "--fn", "parabola", "--opt", "newton,gd")),
    Entry("rosenbrock-surface", "Paths on the 3-D surface.",
          ("run", "--fn", "rosenbrock", "--opt", "momentum,adam", "--surface")),
    Entry("least-squares-sgd", "True SGD and minibatch SGD on a least-squares line fit, 20 seeds each: "
          "median loss and the 10-90% band.",
          ("run", "--fn", "least_squares", "--opt", "gd,sgd,minibatch", "--seeds", "20")),
    Entry("schedule", "SGD with a cosine schedule settles where constant-η SGD keeps bouncing (20 seeds).",
          ("run", "--fn", "least_squares", "--opt", "sgd", "--schedule", "cosine:200", "--seeds", "20")),
    Entry("rosenbrock-sweep", "Which learning rates work? Final loss over an lr grid, per optimizer.",
          ("sweep", "--fn", "rosenbrock", "--opt", "gd,momentum,rmsprop,adam", "--lr", "1e-5:1:41")),
    Entry("momentum-sweep-2d", "Momentum: lr × β map on Rosenbrock (dark: diverged).",
          ("sweep", "--fn", "rosenbrock", "--opt", "momentum", "--lr", "1e-5:1e-2:41", "-p", "beta=0:0.99:34",
           "--metric", "gap")),
    Entry("himmelblau-basins", "Which minimum does each start reach? GD, momentum and Adam on Himmelblau.",
          ("basins", "--fn", "himmelblau", "--opt", "gd,momentum,adam", "--grid", "200")),
    Entry("explore-momentum", "Explorable page: momentum on an ill-conditioned quadratic. GD zig-zags across the "
          "narrow valley; slide β of the heavy ball and watch it overshoot, then settle.",
          ("explore", "--fn", "ill_conditioned", "--opt",
           "gd(lr=0.45), momentum(lr=0.45, beta=0.5), momentum(lr=0.1, beta=0.9, label=heavy ball)")),
    Entry("explore-adam", "Explorable page: Adam against GD and momentum in Rosenbrock's curved valley; drag the "
          "start, slide each learning rate.",
          ("explore", "--fn", "rosenbrock", "--opt", "gd, momentum, adam")),
    Entry("explore-newton", "Explorable page: Newton on x·cos(0.15πx) from x = 10 stops at a maximum (the page "
          "says so); with |eigenvalues| (safeguard abs) it goes down.",
          ("explore", "--fn", "xcos", "--opt", "newton, gd, newton(safeguard=abs, label=safeguarded Newton)")),
    Entry("explore-sgd", "Explorable page: the noise of SGD and minibatch SGD on a least-squares fit; slide the "
          "batch size and the seed.",
          ("explore", "--fn", "least_squares", "--opt", "gd, sgd, minibatch")),
    Entry("explore-saddle", "Explorable page: escaping the saddle of x² − y². Gradient methods slow down near it, "
          "then leave; Newton jumps onto it and stops at a saddle point.",
          ("explore", "--fn", "saddle", "--opt", "gd, momentum, adam, newton", "--steps", "60")),
    Entry("digits-landscape", "Adam and SGD-momentum training the default residual network on the digits: "
          "learning curves, each optimizer's loss landscape on the PCA plane of its own path (with how far "
          "the path leaves the plane), the interpolation from θ₀ to θ*, and animations.",
          ("train", "--epochs", "15", "--landscape", "--animate", "gif", "--diagnostics")),
    Entry("moons-boundaries", "Decision boundaries on two moons after 40 epochs.",
          ("train", "--data", "moons", "--arch", "mlp", "--depth", "3", "--width", "32", "--opt",
           "adam,momentum,sgd", "--epochs", "40")),
)


def check_names(names: list[str]) -> None:
    """Refuse an entry name the gallery does not have."""
    from optviz.errors import OptvizError

    known = [e.name for e in ENTRIES]
    for name in names:
        if name not in known:
            raise OptvizError(f"unknown gallery entry {name!r}; entries: {', '.join(known)}", param="only")


def entries_document(out: str = "gallery", only: list[str] | None = None) -> dict:
    """``{"entries": [...]}``: each entry's name, caption, arguments and command line."""
    return {"entries": [{"name": e.name, "caption": e.caption, "args": [*e.args, "--out", out],
                         "command": e.command(out)} for e in ENTRIES if not only or e.name in only]}


def run_entry(entry: Entry, out: Path, invoke: Callable[[list[str]], object]) -> list[Path]:
    """Run one entry's command into ``out`` with ``invoke(args)`` (the command line's own
    entry point, so an entry runs exactly as a user's command); return the files it wrote."""
    before = {p: p.stat().st_mtime_ns for p in out.glob("*")}
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        invoke([*entry.args, "--out", str(out)])
    return sorted(p for p in out.glob("*") if p.name != "README.md" and before.get(p) != p.stat().st_mtime_ns)


def index_markdown(made: list[tuple[Entry, list[Path]]], out_name: str = "gallery") -> str:
    lines = ["# Gallery", "", "Made by `optviz gallery`; each picture with the command that made it.", ""]
    for entry, files in made:
        lines += [f"## {entry.name}", "", entry.caption, "", "```bash", entry.command(out_name), "```", ""]
        for f in files:
            if f.suffix in (".png", ".gif", ".svg"):
                lines.append(f"![{entry.name}]({f.name})")
            elif f.suffix == ".html":  # an explorable page: its screenshot links to it
                shot = f.with_suffix(".png")
                picture = f"![{entry.name}]({shot.name})" if shot.exists() else f.name
                lines.append(f"[{picture}]({f.name}) (open the page in a browser)")
        lines.append("")
    return "\n".join(lines)
