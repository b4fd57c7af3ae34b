"""Take the README screenshots of the studio with headless Chromium (Playwright).

    python -m web.screenshots [--out docs/screenshots] [--models web/models] [--style tests/data/pebbles.png]
                              [--no-training]

Starts the app with uvicorn on a free 127.0.0.1 port and a throw-away data dir, then saves:
  studio-gallery.png    the whole page at 1440x900: gallery, a texture running, the controls
  studio-texture.png    the canvas alone, a texture grown from the seed
  studio-phone.png      the page on a 390x844 touch phone: canvas, toolbar, brush, the model's name
  studio-training.png   the page while a model trains from an uploaded image (live preview)
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

from .app import create_app
from .headless import CHROMIUM, CHROMIUM_ARGS
from .settings import BUNDLED_MODELS_DIR, Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    p.add_argument("--models", type=Path, default=BUNDLED_MODELS_DIR)
    p.add_argument("--style", type=Path, default=Path("tests/data/pebbles.png"))
    p.add_argument("--model", default=None, help="gallery model to show (default: the first)")
    p.add_argument("--grow", type=int, default=400, help="steps to grow before the texture shots")
    p.add_argument("--no-training", action="store_true", help="skip studio-training.png (it trains a model)")
    args = p.parse_args(argv)

    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(data_dir=Path(data), bundled_models_dir=args.models, train_threads=1)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/"
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                page.goto(url + (f"#model={args.model}" if args.model else ""))
                page.wait_for_function("window.studio && window.studio.ready", timeout=60_000)
                page.wait_for_function(f"window.studio.nca.stepCount >= {args.grow}", timeout=300_000)
                _hold(page)
                page.screenshot(path=args.out / "studio-gallery.png")
                page.locator("#canvas-wrap").screenshot(path=args.out / "studio-texture.png")

                phone = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
                mobile = phone.new_page()
                mobile.goto(url + (f"#model={args.model}" if args.model else ""))
                mobile.wait_for_function("window.studio && window.studio.ready", timeout=60_000)
                mobile.wait_for_function(f"window.studio.nca.stepCount >= {args.grow}", timeout=300_000)
                _hold(mobile)
                mobile.screenshot(path=args.out / "studio-phone.png")
                phone.close()
                if args.no_training:
                    browser.close()
                    return _done(args.out, ("studio-gallery.png", "studio-texture.png", "studio-phone.png"))

                page.evaluate("window.studio.play()")
                page.set_input_files("#file", str(args.style))
                page.select_option("#preset", "quick")
                page.fill("#iterations", "300")
                page.click("#btn-train")
                page.wait_for_function("window.studio.jobEvents.some(e => e.kind === 'preview')", timeout=300_000)
                page.wait_for_function("window.studio.jobEvents.filter(e => e.kind === 'progress').length >= 8",
                                       timeout=300_000)
                page.wait_for_timeout(1500)  # let the preview image load
                page.screenshot(path=args.out / "studio-training.png")
                page.click("#btn-cancel")
                page.wait_for_function("['cancelled', 'finished'].includes(window.studio.state.watchedJob.status)",
                                       timeout=120_000)
                browser.close()
        finally:
            server.should_exit = True
            thread.join(60)
    return _done(args.out, ("studio-gallery.png", "studio-texture.png", "studio-phone.png", "studio-training.png"))


def _hold(page) -> None:
    """Pause the grown texture for its picture: the CPU renderer here is slow enough for the page's
    slow-grid hint, which belongs on a slow machine, not on the README's pictures."""
    page.evaluate("window.studio.pause()")
    page.wait_for_selector("#slow-hint", state="hidden")


def _done(out: Path, names: tuple[str, ...]) -> int:
    for name in names:
        print(out / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
