"""The option types every command shares: choices as Enums, options as ``Annotated`` aliases.

Only typer and the standard library are imported here, so ``optviz --help`` stays
instant. Typer parses; the library validates values (in keyword names) and the CLI maps
those names back to these flags (see :func:`optviz.cli.output.flag_namer`).
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

OUTPUT = "Output"
OPTIM = "Optimizer"
PICTURE = "Pictures"
NET = "Network"
DATA = "Data"
TRAINING = "Training"
LAND = "Landscape"


class ImageFormat(str, Enum):
    png = "png"
    svg = "svg"
    pdf = "pdf"


class AnimationFormat(str, Enum):
    gif = "gif"
    mp4 = "mp4"


class SortBy(str, Enum):
    gap = "gap"
    f = "f"
    distance = "distance"
    steps = "steps"


class Metric(str, Enum):
    final_loss = "final-loss"
    gap = "gap"
    steps = "steps"
    auc = "auc"


class TuneMetric(str, Enum):
    auc = "auc"
    final_loss = "final-loss"
    steps = "steps"


class Arch(str, Enum):
    mlp = "mlp"
    resnet = "resnet"
    cnn = "cnn"
    resnet_cnn = "resnet-cnn"
    densenet = "densenet"
    lenet = "lenet"


class Norm(str, Enum):
    bn = "bn"
    ln = "ln"
    gn = "gn"
    in_ = "in"
    none = "none"


class Act(str, Enum):
    relu = "relu"
    leaky_relu = "leaky_relu"
    prelu = "prelu"
    elu = "elu"
    tanh = "tanh"
    sigmoid = "sigmoid"


class Init(str, Enum):
    he = "he"
    he_normal = "he_normal"
    xavier = "xavier"
    xavier_normal = "xavier_normal"
    zeros = "zeros"


class Loss(str, Enum):
    cross_entropy = "cross_entropy"
    focal = "focal"


class Unit(str, Enum):
    step = "step"
    epoch = "epoch"


class Dtype(str, Enum):
    float32 = "float32"
    float64 = "float64"


class PlaneChoice(str, Enum):
    pca = "pca"
    random = "random"
    both = "both"


# Rich reads help texts as markup: '[default: …]' is a tag (and vanishes), ':B:' an emoji
# code ('poly:B:A' became 'poly🅱A'). Rich's own escape rule for tags, and a null style
# around each word between colons so no emoji code can form.
_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")
_BETWEEN_COLONS = re.compile(r"(?<=:)([^\s:\[\]]+)(?=:)")


def literal(text: str | None) -> str | None:
    """``text`` as Rich markup that renders exactly as written (brackets, colons)."""
    if not text:
        return text
    text = _TAG.sub(lambda m: f"{m.group(1)}{m.group(1)}\\{m.group(2)}", text)
    return _BETWEEN_COLONS.sub(r"[none]\1[/none]", text)


def _literal_param(param: Any) -> None:
    """A parameter's help as written; a flag shown as a flag (no '<bool>' after it)."""
    if getattr(param, "_optviz_literal", False):
        return
    param.help = literal(getattr(param, "help", None))
    if getattr(param, "is_flag", False) and getattr(param, "metavar", None) is None:
        param.metavar = ""
    param._optviz_literal = True


class LiteralHelpCommand(TyperCommand):
    """A command whose ``--help`` shows every text literally: the one place help is escaped."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = literal(self.help)
        for param in self.params:
            _literal_param(param)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            _literal_param(option)
        return option


def value(choice: Enum | None):
    """The word of an Enum choice (None stays None)."""
    return None if choice is None else choice.value


# -- options of the commands on a function -----------------------------------------------
Fn = Annotated[str, typer.Option("--fn", "-f", help="A library name (see 'optviz functions'), a formula such as 'x**2 + 10*y**2', or a path to a function file.")]
Lr = Annotated[float | None, typer.Option(help="Learning rate for every optimizer [default: each optimizer's suggested rate for the function].", rich_help_panel=OPTIM)]
Param = Annotated[list[str] | None, typer.Option("--param", "-p", metavar="NAME=VALUE", help="Hyperparameter NAME=VALUE (beta, dampening, nesterov, eps, beta1, beta2, bias_correction, rho, weight_decay, momentum_decay, amsgrad, damping, safeguard, …; see 'optviz optimizers'); OPT.NAME=VALUE for one optimizer. weight_decay is the decoupled decay of adamw, lion and muon. Repeatable.", rich_help_panel=OPTIM)]
Start = Annotated[list[str] | None, typer.Option(metavar="POINT", help="Start point 'a,b' (a single number for 1-D). Repeatable: several starts run as one batch.")]
Steps = Annotated[int | None, typer.Option(help="Most steps a run takes [default: the function's].")]
Tol = Annotated[float, typer.Option(help="Stop a point when ‖∇f‖ ≤ TOL; 0 runs every step.")]
ScheduleOpt = Annotated[str | None, typer.Option("--schedule", help="Learning-rate schedule: constant | step:K:GAMMA | exp:GAMMA | inverse:D | poly:B:A | cosine:T[:MIN] | warmup:W+SCHEDULE.", rich_help_panel=OPTIM)]
Noise = Annotated[float | None, typer.Option(help="σ of the gradient noise for sgd/minibatch on a plain function [default: the function's, else 1].", rich_help_panel=OPTIM)]
BatchSize = Annotated[int | None, typer.Option(help="Minibatch size b for minibatch SGD.", rich_help_panel=OPTIM)]
Seed = Annotated[int, typer.Option(help="Seed of the gradient noise and sample draws.")]
Out = Annotated[Path, typer.Option(help="Directory for figures.", rich_help_panel=OUTPUT)]
Csv = Annotated[Path | None, typer.Option(help="Write every step of every run to this CSV file.", rich_help_panel=OUTPUT)]
NoPlot = Annotated[bool, typer.Option("--no-plot", help="Draw nothing.", rich_help_panel=OUTPUT)]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout (see README) instead of the table.", rich_help_panel=OUTPUT)]
Format = Annotated[ImageFormat, typer.Option("--format", help="Image format.", rich_help_panel=PICTURE)]
Dpi = Annotated[int, typer.Option(help="Resolution of raster images.", rich_help_panel=PICTURE)]
RunDpi = Annotated[int | None, typer.Option("--dpi", help="Resolution of raster images and animations [default: 150 for images, 100 for animations]; an animation frame may have at most 20 million pixels (dpi 505).", rich_help_panel=PICTURE)]
Animate = Annotated[AnimationFormat | None, typer.Option(help="Also write an animation of the paths (gif needs nothing; mp4 needs ffmpeg).", rich_help_panel=PICTURE)]
Fps = Annotated[int, typer.Option(help="Frames per second of the animation.", rich_help_panel=PICTURE)]
Frames = Annotated[int, typer.Option(help="Number of frames (long runs are subsampled evenly; the last step is always kept).", rich_help_panel=PICTURE)]
Surface = Annotated[bool, typer.Option("--surface", help="Also draw a 3-D surface with the paths on it.", rich_help_panel=PICTURE)]
ShowState = Annotated[bool, typer.Option("--show-state", help="Also draw each optimizer's state per step (v, s, m̂, v̂, effective step).", rich_help_panel=PICTURE)]
Tune = Annotated[bool, typer.Option("--tune", help="Choose each optimizer's lr on a log grid (1e-5 to 10, 31 points, one batched sweep) by --tune-metric.", rich_help_panel=OPTIM)]
TuneBy = Annotated[TuneMetric, typer.Option("--tune-metric", help="What --tune minimizes: auc (mean log10(f − f*) over the run: rewards getting low early and staying low), final-loss, or steps (to reach --tol).", rich_help_panel=OPTIM)]
Seeds = Annotated[int, typer.Option(help="Run sgd/minibatch with N noise seeds (seed, seed+1, …) as one batch; the loss figure shows the median and the 10-90% band.", rich_help_panel=OPTIM)]
Bound = Annotated[float | None, typer.Option(help="|θ| beyond which a run counts as diverged [default: 10⁶ × the domain's scale].")]
DomainOpt = Annotated[str | None, typer.Option("--domain", metavar="X0:X1,Y0:Y1", help="The region drawn: one LO:HI range per variable, e.g. -2:2,-1:3 [default: the function's domain, grown to hold the paths; for a typed formula the critical points and the paths].", rich_help_panel=PICTURE)]
Xlim = Annotated[str | None, typer.Option("--xlim", metavar="LO:HI", help="The range of the first variable drawn (x of a curve) [default: as --domain].", rich_help_panel=PICTURE)]
Ylim = Annotated[str | None, typer.Option("--ylim", metavar="LO:HI", help="The range of f on a curve of one variable, or of the second variable [default: as --domain].", rich_help_panel=PICTURE)]
ShowConvexity = Annotated[bool, typer.Option("--show-convexity", help="Shade where the Hessian is not positive semidefinite (where f is not locally convex).", rich_help_panel=PICTURE)]
