"""The array types of the whole package: numpy arrays over joints or samples.

Every quantity is a float64, int64 or bool array; the unit is in the variable's name or docstring.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
