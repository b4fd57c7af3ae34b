"""Median NCA steps per second of the exported WebGL2 engine in headless Chromium.

    .venv/bin/python bench/browser_speed.py [--trials 5] [--seconds 2] [--graft]

Not a test: prints a table. With --graft, each case is also run with a second model grafted onto
the whole grid (the graft pass: both networks at every cell), beside the plain update pass. Each figure is the median over trials of (steps / wall time),
where a trial runs a batch of steps and then reads a texel back (nca.sync()), so queued GPU
work cannot hide outside the timed region. Uses Debian's chromium with the same flags as the
tests (SwiftShader, i.e. the CPU, on a machine without a GPU).
"""

from __future__ import annotations

import argparse
import mimetypes
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from exporter import export  # noqa: E402
from nca.checkpoint import save_checkpoint  # noqa: E402
from nca.config import TrainConfig  # noqa: E402
from tests.conftest import random_model  # noqa: E402
from web.headless import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

ORIGIN = "http://bench.test"
PAGE = """<!doctype html><canvas id="c" width="256" height="256"></canvas><script type="module">
import { createContext } from '/js/gl.js';
import { NCA } from '/js/nca.js';
window.measure = async ({ model, size, trials, seconds, graft }) => {
  const gl = createContext(document.getElementById('c'));
  const nca = await NCA.load(gl, `/bundles/${model}/`, { width: size, height: size });
  if (graft) { await nca.loadGraft(`/bundles/${graft}/`); nca.paintField('graft', 1, 0.5, 0.5, 2); }
  nca.step(3); nca.sync();  // warm-up: shader compilation and first-use costs
  // Pick a batch size that takes about `seconds`.
  let t = performance.now(); nca.step(2); nca.sync();
  const per = Math.max(1e-3, (performance.now() - t) / 2000);
  const batch = Math.max(2, Math.round(seconds / per));
  const rates = [];
  for (let i = 0; i < trials; i++) {
    t = performance.now(); nca.step(batch); nca.sync();
    rates.push(batch / ((performance.now() - t) / 1000));
  }
  const format = nca.format; nca.dispose();
  return { rates, format, batch };
};
window.ready = true;
</script>"""

CASES = [("12ch-96", 12, 96, 128), ("12ch-96", 12, 96, 256), ("12ch-96", 12, 96, 512),
         ("8ch-48", 8, 48, 128), ("8ch-48", 8, 48, 256), ("8ch-48", 8, 48, 512)]
GRAFT_SUFFIX = "-b"  # the grafted model: the same shape, other weights


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0, help="target length of one trial")
    parser.add_argument("--graft", action="store_true", help="also time the graft pass over the whole grid")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        bundles = Path(tmp) / "bundles"
        for name, c, h in {(n, c, h) for n, c, h, _ in CASES}:
            for seed, bundle in enumerate((name, name + GRAFT_SUFFIX)):
                ckpt = Path(tmp) / bundle / "checkpoint.pt"
                save_checkpoint(ckpt, random_model(c, h, seed=seed, scale=0.01), TrainConfig(), {})
                export(ckpt, bundles, name=bundle, thumbnail_steps=1)
        roots = {"/js/": REPO / "exporter" / "js", "/bundles/": bundles}

        def handle(route):
            path = route.request.url[len(ORIGIN):]
            if path == "/":
                return route.fulfill(body=PAGE, content_type="text/html")
            for prefix, root in roots.items():
                if path.startswith(prefix) and (root / path[len(prefix):]).is_file():
                    file = root / path[len(prefix):]
                    ctype = "text/javascript" if file.suffix == ".js" else mimetypes.guess_type(file.name)[0]
                    return route.fulfill(body=file.read_bytes(), content_type=ctype or "text/plain")
            return route.fulfill(status=404)

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            print(f"{'model':<10} {'pass':<6} {'grid':>9} {'format':>8} {'steps/s':>9}"
                  f"  (median of {args.trials}; min..max)")
            for name, _c, _h, size in CASES:
                for graft in ([None, name + GRAFT_SUFFIX] if args.graft else [None]):
                    page = browser.new_page()
                    page.route(f"{ORIGIN}/**", handle)
                    page.goto(f"{ORIGIN}/")
                    page.wait_for_function("window.ready === true")
                    result = page.evaluate("(o) => window.measure(o)", {
                        "model": name, "size": size, "trials": args.trials, "seconds": args.seconds,
                        "graft": graft})
                    rates = result["rates"]
                    print(f"{name:<10} {'graft' if graft else 'update':<6} {size:>4}x{size:<4} {result['format']:>8}"
                          f" {statistics.median(rates):>9.2f}  ({min(rates):.2f}..{max(rates):.2f},"
                          f" {result['batch']} steps/trial)", flush=True)
                    page.close()
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
