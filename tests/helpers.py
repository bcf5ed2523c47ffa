"""Small helpers shared by the test modules (no tests here)."""
import numpy as np


def fd(f, x, h=1e-6):
    """Central differences of the scalar ``f()`` with respect to the array ``x`` that ``f``
    reads: each element is nudged in place and restored."""
    g = np.zeros_like(x)
    for ix in np.ndindex(*x.shape):
        old = x[ix]
        x[ix] = old + h
        up = f()
        x[ix] = old - h
        down = f()
        x[ix] = old
        g[ix] = (up - down) / (2 * h)
    return g
