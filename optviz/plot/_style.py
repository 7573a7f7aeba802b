"""Names, colors, markers and text for figures; no matplotlib import here.

Every helper reads the plain records (:class:`~optviz.trajectory.Trajectory`,
:class:`~optviz.objective.Objective`) and returns strings or numbers, so the
text of a legend can be tested without drawing anything.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from optviz.plot.color_distance import min_distance

# One fixed color and marker per optimizer, so Adam is vermillion in every figure a
# teacher makes. The colors are Okabe and Ito's colour-blind-safe set without its yellow
# (invisible on white), with Tol's indigo and wine: under a simulated deuteranopia,
# protanopia or tritanopia every pair stays at least 15 CIELAB units apart. Red-green
# blindness leaves two hue families, yellows and blues; the optimizers compared most
# often (GD, Momentum, Adam; SGD and minibatch; Adam and RMSprop) sit in different
# ones, or one is black (the tests measure both). The rules added later (Adadelta to
# Muon) were chosen from a 16-level RGB grid, each the colour farthest from all before it
# under the three simulations and normal vision, lightness between 22 and 72: every pair
# of all eighteen still stays 15 units apart. Each optimizer also has its own marker, so
# no figure rests on color alone.
OPTIMIZER_STYLE: dict[str, tuple[str, str, str]] = {
    # name: (display name, color, marker)
    "gd": ("GD", "#000000", "o"),
    "sgd": ("SGD", "#56B4E9", "h"),
    "minibatch": ("Minibatch SGD", "#009E73", "p"),
    "momentum": ("Momentum", "#0072B2", "s"),
    "nesterov": ("Nesterov", "#882255", "D"),
    "adagrad": ("AdaGrad", "#CC79A7", "v"),
    "rmsprop": ("RMSprop", "#332288", "^"),
    "adam": ("Adam", "#D55E00", "P"),
    "newton": ("Newton", "#E69F00", "X"),
    "adadelta": ("Adadelta", "#553311", "<"),
    "yogi": ("Yogi", "#99BB66", ">"),
    "adamw": ("AdamW", "#9922FF", "*"),
    "amsgrad": ("AMSGrad", "#9977FF", "d"),
    "nadam": ("NAdam", "#FF4477", "8"),
    "radam": ("RAdam", "#446644", "H"),
    "adamax": ("Adamax", "#6644CC", "x"),
    "lion": ("Lion", "#886633", "+"),
    "muon": ("Muon", "#553377", "1"),
}
PALETTE = tuple(color for _, color, _ in OPTIMIZER_STYLE.values())
# For a second run of one optimizer (variants, or a name with no style): the same safe
# colors first, alternating the two hue families, then three more.
SPARE_COLORS = ["#0072B2", "#D55E00", "#56B4E9", "#009E73", "#CC79A7", "#E69F00", "#332288", "#882255",
                "#000000", "#117733", "#8C510A", "#777777"]
SPARE_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "h", "p", "<", ">", "*"]

# Slide-ready defaults: bigger type than matplotlib's, no top/right spines on plots.
RC = {
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "figure.titlesize": 15,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 2.0,
    "legend.frameon": False,
    "savefig.facecolor": "white",
    "figure.facecolor": "white",
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "mathtext.fontset": "dejavusans",
}

# Light valleys (where the paths run) to mid-blue ridges: every optimizer color stays
# visible on it; never as dark as navy, where a blue path would vanish.
CONTOUR_CMAP = ("YlGnBu", 0.0, 0.72)
START_STYLE = dict(marker="o", markersize=11, markerfacecolor="white", markeredgecolor="black",
                   markeredgewidth=2.0, linestyle="none")
MINIMUM_STYLE = dict(marker="*", markersize=19, markerfacecolor="#ffd700", markeredgecolor="black",
                     markeredgewidth=1.2, linestyle="none")
LOCAL_MINIMUM_STYLE = dict(marker="*", markersize=13, markerfacecolor="white",
                           markeredgecolor="black", markeredgewidth=1.1, linestyle="none")
# Stationary points that are not minima: white or black shapes with a black or white
# edge, never an optimizer's color, so they read as landmarks of the function.
CRITICAL_STYLE = {
    "lowest": MINIMUM_STYLE,
    "minimum": LOCAL_MINIMUM_STYLE,
    "saddle": dict(marker="X", markersize=10, markerfacecolor="white", markeredgecolor="black",
                   markeredgewidth=1.2, linestyle="none"),
    "maximum": dict(marker="^", markersize=10, markerfacecolor="black", markeredgecolor="white",
                    markeredgewidth=1.0, linestyle="none"),
    "degenerate": dict(marker="s", markersize=8, markerfacecolor="white", markeredgecolor="black",
                       markeredgewidth=1.2, linestyle="none"),
}
# Drawing order: the lowest minimum's star above the end markers (7) and the start (8).
CRITICAL_ZORDER = {"lowest": 9, "minimum": 6, "saddle": 6, "maximum": 6, "degenerate": 6}

GREEK = {"lr": "η", "beta": "β", "beta1": "β₁", "beta2": "β₂", "eps": "ε", "damping": "λ",
          "dampening": "dampening", "noise": "σ", "batch_size": "b"}
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def display_name(optimizer: str) -> str:
    return OPTIMIZER_STYLE.get(optimizer, (optimizer, "", ""))[0]


def run_name(traj: Any) -> str:
    """'Adam', or the run's label with the optimizer's display name: 'SGD (tuned)'."""
    label = getattr(traj, "label", "") or traj.optimizer
    if label.startswith(traj.optimizer):
        return display_name(traj.optimizer) + label[len(traj.optimizer):]
    return label


def run_styles(runs: Sequence[Any]) -> list[tuple[str, str]]:
    """(color, marker) per run (or per optimizer name): the optimizer's own, or, if an
    earlier run has it, the spare color farthest from every color used so far (the
    smallest CIELAB distance under normal vision and red-green blindness, largest), so
    that two runs of SGD are not two shades of blue, and the first spare marker no run has."""
    names = [run if isinstance(run, str) else run.optimizer for run in runs]
    # every optimizer keeps its own style for its first run, so a spare never takes a
    # color or marker that a later optimizer of the same figure is known by
    own = {name: OPTIMIZER_STYLE[name] for name in names if name in OPTIMIZER_STYLE}
    used = list(dict.fromkeys(color for _, color, _ in own.values()))
    markers = [marker for _, _, marker in own.values()]
    out = []
    first: set[str] = set()
    for name in names:
        if name in own and name not in first:
            first.add(name)
            out.append(own[name][1:])
            continue
        free = [c for c in SPARE_COLORS if c not in used] or list(SPARE_COLORS)
        color = max(free, key=lambda c: (min_distance(c, used), -SPARE_COLORS.index(c)))
        marker = next((m for m in SPARE_MARKERS if m not in markers), SPARE_MARKERS[len(out) % len(SPARE_MARKERS)])
        used.append(color)
        markers.append(marker)
        out.append((color, marker))
    return out


def fmt_number(value: float, digits: int = 3) -> str:
    """A compact number for a legend: 0.1, 2.39×10⁻⁵, 1000, 1.5×10⁶."""
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    text = f"{v:.{digits}g}"
    if "e" not in text:
        return text
    mantissa, exp = text.split("e")
    exp_text = str(int(exp)).translate(_SUPERSCRIPT)
    return f"10{exp_text}" if mantissa in ("1", "1.0") else f"{mantissa}×10{exp_text}"


def _fmt_value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    arr = np.asarray(value)
    if arr.dtype.kind in "fiu":
        flat = arr.reshape(-1).astype(float)
        if flat.size == 1:
            return fmt_number(flat[0])
        return f"{fmt_number(np.nanmin(flat))}…{fmt_number(np.nanmax(flat))}"
    return str(value)


def hyperparameter_text(traj: Any) -> str:
    """'η=0.1, β₁=0.9, β₂=0.999, ε=10⁻⁸' plus non-default switches and the schedule."""
    try:
        from optviz.optim import defaults

        default = defaults(traj.optimizer)
    except Exception:  # an optimizer unknown to the registry: show everything
        default = {}
    parts = []
    for key, value in traj.hyperparameters.items():
        is_switch = isinstance(value, (bool, str))
        at_default = key in default and _same(value, default[key])
        if (is_switch or _is_zero(value) or key == "eps") and at_default:
            continue  # 'nesterov=on' for Nesterov, 'damping=0', a default ε: clutter on a slide
        if key == "bias_correction":
            parts.append("no bias correction" if not value else "bias correction")
            continue
        parts.append(f"{GREEK.get(key, key)}={_fmt_value(value)}")
    schedule = getattr(traj, "schedule", "constant") or "constant"
    if schedule != "constant":
        parts.append(f"schedule {schedule}")
    return ", ".join(parts)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(np.all(np.asarray(a) == np.asarray(b)))
    except Exception:
        return False


def _is_zero(value: Any) -> bool:
    try:
        return bool(np.all(np.asarray(value, dtype=float) == 0))
    except (TypeError, ValueError):
        return False


def status_summary(traj: Any) -> str:
    """'converged at step 20', 'diverged at step 5 (…)', or '2 converged, 1 diverged' for K > 1."""
    if traj.K == 1:
        return traj.status_text(0)
    from optviz.status import GROUP_WORDS, Status

    counts: dict[str, int] = {}
    for s in traj.status:
        counts[s] = counts.get(s, 0) + 1
    return ", ".join(f"{n} of {traj.K} {GROUP_WORDS[Status(s)]}" for s, n in counts.items())


def reference_text(objective: Any, approx: bool = True) -> str:
    """'f* = 0' for a listed minimum; 'f* ≈ 6.7×10⁻²³, the lowest minimum found' otherwise."""
    ref = objective.reference_value
    if ref is None:
        return "f* unknown"
    if objective.reference_is_listed:
        return f"f* = {fmt_number(ref, 4)}"
    return f"f* {'≈' if approx else '='} {fmt_number(ref, 3)}, the lowest minimum found"


def rounding(f_star: float) -> float:
    """How far below f* a value may be by rounding alone."""
    return 1e-12 * max(1.0, abs(f_star))


def gap_text(value: float, objective: Any) -> str:
    """'f − f* = 2.3×10⁻⁵', with a word whenever the value is below f*: within rounding, or
    below the listed minimum (or the lowest found), by how much."""
    ref = objective.reference_value
    if ref is None:
        return f"f = {fmt_number(value)}"
    gap = value - ref
    if gap >= 0:
        return f"f − f* = {fmt_number(gap)}"
    if -gap <= rounding(ref):
        return f"f − f* = {fmt_number(gap)} (below f* by rounding)"
    where = "the listed minimum" if objective.reference_is_listed else "the lowest minimum found"
    return f"f = {fmt_number(value, 4)}: below {where} f* = {fmt_number(ref, 4)} by {fmt_number(-gap)}"


def run_label(traj: Any, *, detail: bool = True) -> str:
    """Legend text: name and hyperparameters; with ``detail`` a second line with the
    outcome and where it ended relative to f* (:func:`gap_text`)."""
    name = run_name(traj)
    hyper = hyperparameter_text(traj)
    head = f"{name}  ({hyper})" if hyper else name
    oracle = getattr(traj, "oracle", "")
    if oracle and oracle != "exact gradient":
        head += f"\n{_wrap(oracle)}"
    if not detail:
        return head
    outcome = status_summary(traj)
    if traj.K == 1:
        n = len(traj.path(0))
        if n:
            value = float(traj.loss[n - 1, 0])
            if np.isfinite(value):
                outcome += f", {gap_text(value, traj.objective)}"
    return f"{head}\n{_wrap(outcome)}"


def legend_layout(n_runs: int) -> tuple[int, float]:
    """Columns and font size of a legend of ``n_runs`` runs: compact from five runs on."""
    if n_runs <= 4:
        return (1 if n_runs <= 3 else 2), 11.0
    if n_runs <= 6:
        return 3, 9.5
    return 4, 9.0


def _wrap(text: str, width: int = 52) -> str:
    """Legend lines short enough for two columns on a slide."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)) or text


def objective_title(objective: Any) -> str:
    """The name part of the function file's title ('Rosenbrock'), or '' for a typed formula."""
    title = getattr(objective, "title", "") or ""
    if title:
        return _name_part(str(title))
    name = str(objective.name)
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) and name != objective.formula_text:
        return name.replace("_", " ").capitalize() if name.islower() else name
    return ""


def _name_part(title: str) -> str:
    """'Parabola x^2' -> 'Parabola'; 'x cos(0.15 pi x)' -> '' (the formula is shown anyway)."""
    words = []
    for token in title.split():
        if any(c in token for c in "()^*+=/") or re.fullmatch(r"[-+]?\d+(\.\d*)?", token):
            break
        words.append(token)
    name = " ".join(words).rstrip(" -:")
    return name if len(name) > 2 else ""


def formula_mathtext(objective: Any, *, check: bool = True) -> str:
    """The formula as matplotlib mathtext, from sympy's LaTeX; with ``check``, plain
    text when mathtext cannot parse it (figure titles check when they are laid out)."""
    variables = ", ".join(_latex_variable(v) for v in objective.variables)
    try:
        body = objective.latex()
    except Exception:
        body = ""
    if getattr(objective, "finite_sum", None) is not None:
        text = rf"$f({variables}) = \frac{{1}}{{n}}\sum_{{i=1}}^{{n}} {body}$" if body else ""
    else:
        text = f"$f({variables}) = {body}$" if body else ""
    if text and (not check or _mathtext_ok(text)):
        return text
    return plain_formula(objective)


def plain_formula(objective: Any) -> str:
    """'f(x, y) = (1 - x)^2 + …' as typed, safe from mathtext."""
    plain = getattr(objective, "formula_text", "") or str(getattr(objective, "expr", ""))
    return f"f({', '.join(objective.variables)}) = {plain}".replace("$", r"\$")


def _latex_variable(name: str) -> str:
    m = re.fullmatch(r"([A-Za-z]+)_?(\d+)", name)
    return f"{m.group(1)}_{{{m.group(2)}}}" if m else name


def math_or_plain(name: str) -> str:
    """A variable name as mathtext ('$x_{1}$') when matplotlib can typeset it, else as
    plain text with mathtext's special characters shown as they are."""
    text = f"${_latex_variable(name)}$"
    return text if _mathtext_ok(text) else name.replace("$", r"\$")


def function_label(objective: Any) -> str:
    """'$f(x, y)$', or 'f(a_b_c, y)' in plain text when mathtext cannot typeset a variable."""
    text = f"$f({', '.join(_latex_variable(v) for v in objective.variables)})$"
    return text if _mathtext_ok(text) else plain_formula(objective).split(" = ")[0]


def _mathtext_ok(text: str) -> bool:
    try:
        from matplotlib.mathtext import MathTextParser

        MathTextParser("path").parse(text)
        return True
    except Exception:
        return False


def slug(text: str, limit: int = 60, *, lower: bool = True) -> str:
    """A file-name-safe piece: 'x*cos(0.15*pi*x)' -> 'x-cos-0.15-pi-x'."""
    s = re.sub(r"[^A-Za-z0-9._]+", "-", str(text)).strip("-.")
    s = s.lower() if lower else s
    s = re.sub(r"\.{2,}", ".", s)
    return s[:limit].strip("-.") or "function"


def default_stem(objective: Any, runs: Sequence[Any]) -> str:
    names = [slug(t.label or t.optimizer, 20) for t in runs]
    joined = "-".join(names)
    if len(joined) > 60:
        joined = f"{len(names)}-optimizers"
    return f"{slug(objective.name)}_{joined}"
