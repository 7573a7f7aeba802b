"""Problems the reference cross-checks share."""

import numpy as np


def quadratic():
    """(A, b, x0) of a 50-dimensional quadratic: A symmetric with eigenvalues from 0.1 to 10
    (condition number 100), the same for every reference."""
    rng = np.random.default_rng(50)
    Q, _ = np.linalg.qr(rng.standard_normal((50, 50)))
    A = Q @ np.diag(np.geomspace(0.1, 10.0, 50)) @ Q.T
    A = (A + A.T) / 2
    return A, rng.standard_normal(50), rng.standard_normal(50)
