"""How every headless Chromium here is launched: tests, benchmarks and the README screenshots.

Debian's chromium, because Playwright's own browser download is not possible offline; WebGL2
runs on the CPU through SwiftShader. The last three flags keep the browser from reaching the
network on its own (updates, field trials) so runs stay offline and repeatable.
"""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("NCA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
