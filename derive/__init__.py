"""derive: proven, step-by-step backward passes for neural-network layers.

>>> from derive import derive
>>> derive("sigmoid").result["x"]
dout*out*(1 - out)
"""
from .derivation import Derivation, derive
from .errors import DeriveError

__all__ = ["derive", "Derivation", "DeriveError"]
__version__ = "0.1.0"
