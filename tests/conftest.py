import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def tiny_run():
    """A small trained run with weight snapshots (for run-file tests)."""
    from optviz.nn import make_moons, train

    return train(make_moons(60, seed=1), ["adam", "momentum"], epochs=3, lr=0.05,
                 model={"depth": 1, "width": 8}, record_weights="epoch", seed=0)
