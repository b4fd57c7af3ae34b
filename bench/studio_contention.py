"""Training while the studio page plays: training it/s and the page's steps/s, by training threads.

On a machine without a GPU the page's WebGL runs on the CPU (SwiftShader), beside the studio's
training worker. This starts the real studio (`nca serve`), opens it in headless Chromium playing
the bundled leopard, and trains the quick setting beside it at each thread count, then alone.

    python bench/studio_contention.py [--threads 1,2] [--iterations 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from nca.train import train  # noqa: E402
from tests.test_e2e.serve import running_server  # noqa: E402
from web.headless import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

STYLE = REPO / "gallery" / "styles" / "leopard.png"
WARMUP = 5


def train_rate(threads: int, iterations: int) -> float:
    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as tmp:
        train(STYLE, tmp, preset="quick", iterations=iterations, threads=threads, probe_every=0, check_steps=(),
              checkpoint_every=10**6, preview_every=10**6, quiet=True)
        times = [json.loads(line)["seconds"] for line in (Path(tmp) / "metrics.jsonl").read_text().splitlines()]
    return 1.0 / statistics.median(times[WARMUP:])


def page_rate(page, seconds: float = 5.0) -> float:
    start = page.evaluate("window.studio.nca.stepCount")
    time.sleep(seconds)
    return (page.evaluate("window.studio.nca.stepCount") - start) / seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--grid", default="256", help="the page's grid size")
    args = ap.parse_args()
    counts = [int(t) for t in args.threads.split(",")]
    alone = {t: train_rate(t, args.iterations) for t in counts}
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as root, running_server(Path(root)) as (url, _proc), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{url}/#model=leopard")
        page.wait_for_function("window.studio && window.studio.ready", timeout=60_000)
        page.select_option("#grid-size", args.grid)
        page.evaluate("window.studio.play()")
        time.sleep(3)
        idle_page = page_rate(page)
        beside, busy = {}, {}
        for t in counts:
            worker = threading.Thread(target=lambda t=t: beside.__setitem__(t, train_rate(t, args.iterations)))
            worker.start()
            time.sleep(8)  # past VGG loading and compilation
            busy[t] = page_rate(page)
            worker.join()
        browser.close()
    print(f"page alone: {idle_page:.1f} steps/s at {args.grid}x{args.grid}")
    for t in counts:
        print(f"training at {t} thread(s): {alone[t]:.2f} it/s alone, {beside[t]:.2f} it/s beside the playing page "
              f"({beside[t] / alone[t]:.0%}); the page meanwhile {busy[t]:.1f} steps/s")


if __name__ == "__main__":
    main()
