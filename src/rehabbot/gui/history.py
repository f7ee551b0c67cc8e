"""The last few seconds of live rows, for plotting: a fixed-size numpy window that rolls.

>>> import numpy as np
>>> from rehabbot.runtime.ring import LiveBlock, row_width
>>> h = History(n_joints=1, rows=3)
>>> rows = np.zeros((5, row_width(1))); rows[:, 0] = range(5)
>>> h.extend(LiveBlock(rows, 1, 0))
>>> h.view().column("tick").tolist()
[2.0, 3.0, 4.0]
"""

from __future__ import annotations

import numpy as np

from rehabbot.runtime.ring import LiveBlock, row_width


class History:
    """Keeps the newest ``rows`` rows of a session's live data, oldest first."""

    def __init__(self, n_joints: int, rows: int) -> None:
        self.n_joints = n_joints
        self._data = np.full((rows, row_width(n_joints)), np.nan)
        self._filled = 0

    def extend(self, block: LiveBlock) -> None:
        """Append rows, dropping the oldest beyond the capacity."""
        new = block.rows[-len(self._data):]
        n = len(new)
        if n == 0:
            return
        self._data = np.roll(self._data, -n, axis=0)
        self._data[-n:] = new
        self._filled = min(self._filled + n, len(self._data))

    def view(self) -> LiveBlock:
        """The rows kept, oldest first (a view: valid until the next :meth:`extend`)."""
        return LiveBlock(self._data[len(self._data) - self._filled:], self.n_joints, 0)

    def clear(self) -> None:
        """Forget every row."""
        self._data[:] = np.nan
        self._filled = 0
