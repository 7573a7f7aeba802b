"""A small numpy network library for ``optviz train`` (docs/math.md §6).

Layers keep forward next to backward; parameters and gradients are dicts of numpy
arrays keyed by dotted names ("block2.linear1.W"), so the optimizers of optviz.optim
update a network exactly as they update a point on a surface. numpy only.
"""

from optviz.nn.activations import (
    ELU,
    Identity,
    LeakyReLU,
    PReLU,
    ReLU,
    Sigmoid,
    Tanh,
    make_activation,
)
from optviz.nn.conv import Conv2d
from optviz.nn.data import (
    Dataset,
    Split,
    Standardizer,
    load_csv,
    load_dataset,
    load_digits,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    split_and_standardize,
    stratified_split,
)
from optviz.nn.init import INITIALIZERS, he_normal, he_uniform, xavier_normal, xavier_uniform, zeros
from optviz.nn.interpolation import Interpolation, interpolate
from optviz.nn.landscape import Landscape, LandscapeOptions, landscape, landscape_report, landscapes
from optviz.nn.layers import BatchNorm1d, Dropout, LayerNorm, Linear
from optviz.nn.losses import (
    LOSSES,
    accuracy,
    binary_cross_entropy,
    binary_focal_loss,
    focal_loss,
    get_loss,
    l1_loss,
    l1_penalty,
    l2_penalty,
    log_softmax,
    mse_loss,
    smooth_l1_loss,
    softmax,
    softmax_cross_entropy,
)
from optviz.nn.model import Model, ResidualBlock, build_model
from optviz.nn.module import Module, Sequential, named_leaves
from optviz.nn.norm2d import BatchNorm2d, GroupNorm, InstanceNorm2d, LayerNorm2d
from optviz.nn.pool import AvgPool2d, Flatten, GlobalAvgPool2d, MaxPool2d
from optviz.nn.records import OptimizerRun, TrainResult, TrainSettings
from optviz.nn.runfile import load_run, save_run
from optviz.nn.train import evaluate, train

__all__ = [
    "ELU",
    "INITIALIZERS",
    "Interpolation",
    "Landscape",
    "LandscapeOptions",
    "LOSSES",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "Dataset",
    "Dropout",
    "Flatten",
    "GlobalAvgPool2d",
    "GroupNorm",
    "Identity",
    "InstanceNorm2d",
    "LayerNorm",
    "LayerNorm2d",
    "LeakyReLU",
    "Linear",
    "MaxPool2d",
    "Model",
    "Module",
    "PReLU",
    "ReLU",
    "OptimizerRun",
    "ResidualBlock",
    "Sequential",
    "Sigmoid",
    "Split",
    "Standardizer",
    "Tanh",
    "TrainResult",
    "TrainSettings",
    "accuracy",
    "binary_cross_entropy",
    "binary_focal_loss",
    "build_model",
    "evaluate",
    "focal_loss",
    "get_loss",
    "he_normal",
    "he_uniform",
    "interpolate",
    "l1_loss",
    "l1_penalty",
    "l2_penalty",
    "landscape",
    "landscape_report",
    "landscapes",
    "load_csv",
    "load_dataset",
    "load_digits",
    "load_run",
    "log_softmax",
    "make_activation",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_spirals",
    "make_xor",
    "mse_loss",
    "named_leaves",
    "save_run",
    "smooth_l1_loss",
    "softmax",
    "softmax_cross_entropy",
    "split_and_standardize",
    "stratified_split",
    "train",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]
