"""Frame sinks for `nca record`: H.264/VP9 through ffmpeg, looping GIF, numbered PNGs.

Every writer renders into a temporary name beside the destination and renames it into place
on `commit`, so an error or Ctrl-C never leaves a half-written video (or half a frames directory).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ..files import commit, discard, temp_beside
from .errors import RecordError


class _Writer:
    """Writes frames to a temporary path beside `out`; `commit` renames it into place."""

    def __init__(self, out: Path, width: int, height: int, fps: int):
        self.out, self.width, self.height, self.fps = out, width, height, fps
        self.tmp: Path | None = None

    def append(self, frame: np.ndarray) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Flush everything to self.tmp."""

    def commit(self) -> None:
        self.finish()
        commit(self.tmp, self.out)
        self.tmp = None

    def abort(self) -> None:
        if self.tmp is not None:
            discard(self.tmp)
            self.tmp = None


class _FFmpegWriter(_Writer):
    # yuv420p: the only pixel format browsers and phones all decode. CRF = constant quality.
    CODECS = {
        "mp4": ("libx264", ["-crf", "20", "-preset", "medium", "-movflags", "+faststart", "-f", "mp4"]),
        "webm": ("libvpx-vp9", ["-crf", "32", "-b:v", "0", "-deadline", "good", "-cpu-used", "4",
                                "-row-mt", "1", "-f", "webm"]),
    }

    def __init__(self, out: Path, width: int, height: int, fps: int, fmt: str):
        super().__init__(out, width, height, fps)
        import imageio_ffmpeg  # deferred: only video formats need the ffmpeg binary

        codec, params = self.CODECS[fmt]
        self._gen = None
        self.tmp = temp_beside(out)
        try:
            self._gen = imageio_ffmpeg.write_frames(
                str(self.tmp), (width, height), fps=fps, codec=codec, pix_fmt_in="rgb24",
                pix_fmt_out="yuv420p", quality=None, macro_block_size=1, ffmpeg_log_level="error",
                output_params=params)
            self._gen.send(None)  # starts ffmpeg
        except BaseException:
            self.abort()
            raise

    def append(self, frame: np.ndarray) -> None:
        self._gen.send(np.ascontiguousarray(frame))

    def finish(self) -> None:
        if self._gen is not None:
            self._gen.close()
            self._gen = None

    def abort(self) -> None:
        try:
            self.finish()
        except Exception:  # noqa: BLE001 - the file is being thrown away anyway
            pass
        super().abort()


class _GifWriter(_Writer):
    def __init__(self, out: Path, width: int, height: int, fps: int):
        super().__init__(out, width, height, fps)
        self.tmp = temp_beside(out)
        self.frames: list[Image.Image] = []

    def append(self, frame: np.ndarray) -> None:
        # Palette now (what Pillow's GIF writer would do at save time): a third of the memory.
        self.frames.append(Image.fromarray(frame, "RGB").convert("P", palette=Image.Palette.ADAPTIVE))

    def finish(self) -> None:
        # Pillow merges identical consecutive frames (adding their delays): a still stretch of
        # video becomes one GIF frame, the timing stays right.
        first, *rest = self.frames
        first.save(self.tmp, format="GIF", save_all=True, append_images=rest,
                   duration=gif_delays_ms(len(self.frames), self.fps), loop=0)  # loop=0: forever
        self.frames = []


def gif_delays_ms(frames: int, fps: int) -> list[int]:
    """Per-frame GIF delays. GIF stores whole centiseconds, so 30 fps alternates 30 and 40 ms:
    frame i still starts within 5 ms of i / fps and the clip keeps its length."""
    ends = [round((i + 1) * 100 / fps) * 10 for i in range(frames)]
    return [end - start for start, end in zip([0, *ends[:-1]], ends, strict=True)]


class _FramesWriter(_Writer):
    def __init__(self, out: Path, width: int, height: int, fps: int):
        super().__init__(out, width, height, fps)
        self.tmp = temp_beside(out, directory=True)
        self.count = 0

    def append(self, frame: np.ndarray) -> None:
        Image.fromarray(frame, "RGB").save(self.tmp / f"frame_{self.count:06d}.png")
        self.count += 1



def check_output(out: Path, fmt: str, width: int, height: int) -> None:
    """Refuse, before any rendering, an output that cannot be written."""
    if fmt in ("mp4", "webm") and (width % 2 or height % 2):
        raise RecordError(f"{fmt} (yuv420p) needs an even width and height, got {width}x{height}: "
                          "change --size or --scale, or use --format gif/frames")
    parent = out.parent
    if not parent.is_dir():
        raise RecordError(f"cannot write {out}: directory {parent} does not exist")
    if fmt == "frames":
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise RecordError(f"cannot write frames to {out}: it exists and is not an empty directory")
    elif out.is_dir():
        raise RecordError(f"cannot write {out}: it is a directory")


def open_writer(out: Path, fmt: str, width: int, height: int, fps: int) -> _Writer:
    try:
        if fmt in ("mp4", "webm"):
            return _FFmpegWriter(out, width, height, fps, fmt)
        if fmt == "gif":
            return _GifWriter(out, width, height, fps)
        return _FramesWriter(out, width, height, fps)
    except OSError as exc:
        raise RecordError(f"cannot write {out}: {exc.strerror or exc}") from None
