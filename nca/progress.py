"""The progress bars on stderr (training iterations with their loss, recording frames): tqdm's."""

from __future__ import annotations

import sys

from tqdm import tqdm


class _Lines:
    """tqdm redraws its line with carriage returns; in a log each redraw becomes a line of its own."""

    def write(self, text: str) -> None:
        text = text.replace("\r", "").strip()
        if text:
            sys.stderr.write(text + "\n")

    def flush(self) -> None:
        sys.stderr.flush()


def progress_bar(total: int, *, initial: int = 0, unit: str = "it", enabled: bool = True) -> tqdm:
    """A bar that redraws a few times a second on a terminal and writes a line every 10 s in a log."""
    tty = sys.stderr.isatty()
    return tqdm(total=total, initial=initial, unit=unit, disable=not enabled, file=sys.stderr if tty else _Lines(),
                mininterval=0.25 if tty else 10.0, dynamic_ncols=tty, ascii=not tty)
