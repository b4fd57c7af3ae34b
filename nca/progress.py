"""A dependency-free progress bar on stderr: iteration, loss, it/s, ETA."""

from __future__ import annotations

import sys
import time


def format_seconds(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressBar:
    """Redraws one line at most 4 times a second; prints plain lines when stderr is not a terminal."""

    def __init__(self, total: int, start: int = 0, enabled: bool = True, width: int = 24):
        self.total = total
        self.start = start
        self.enabled = enabled
        self.width = width
        self.tty = sys.stderr.isatty()
        self.t0 = time.perf_counter()
        self.last_draw = 0.0
        self.rate = 0.0
        self._drawn = False

    def update(self, done: int, loss: float | None = None) -> float:
        """Record progress; returns the smoothed rate (iterations per second)."""
        now = time.perf_counter()
        elapsed = now - self.t0
        if elapsed > 0 and done > self.start:
            self.rate = (done - self.start) / elapsed
        interval = 0.25 if self.tty else 10.0
        if self.enabled and (now - self.last_draw >= interval or done == self.total):
            self.last_draw = now
            self._draw(done, loss)
        return self.rate

    def _draw(self, done: int, loss: float | None) -> None:
        frac = done / self.total if self.total else 1.0
        filled = int(frac * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        eta = (self.total - done) / self.rate if self.rate > 0 else 0.0
        loss_text = f" loss {loss:.4g}" if loss is not None else ""
        line = (f"[{bar}] {done}/{self.total}{loss_text} {self.rate:.2f} it/s ETA {format_seconds(eta)}")
        if self.tty:
            sys.stderr.write("\r" + line + "\x1b[K")
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
        self._drawn = True

    def close(self) -> None:
        if self.enabled and self.tty and self._drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()
