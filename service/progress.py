"""Progress on a terminal: one line redrawn in place on stderr, silent elsewhere."""

from __future__ import annotations

import sys
from typing import TextIO


class TerminalProgress:
    """A ``ProgressFn`` that draws ``stage: done/total`` when stderr is a terminal."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._drawn = False

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if total:
            width = 24
            filled = int(width * done / total)
            text = f"{stage:<20} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        else:
            text = f"{stage:<20} {done}"
        self.stream.write("\r\x1b[2K" + text)
        self.stream.flush()
        self._drawn = True

    def clear(self) -> None:
        """Remove the progress line before a summary is printed."""
        if self._drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._drawn = False
