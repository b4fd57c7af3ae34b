"""The standalone single-file HTML export: the engine, the bundle and a small UI in one page.

No server and no network: the model and the rendered GLSL are embedded as JSON, and the two
engine modules (exporter/js/gl.js, nca.js; the studio page imports the same files) are inlined
into one module script with their import/export keywords removed, so the file works when opened
from disk (file://).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

# The engine's ES modules: owned here, below both the standalone page and the web app that serves them.
ENGINE_DIR = Path(__file__).resolve().parent / "js"
TEMPLATE = Path(__file__).resolve().parent / "standalone.html.j2"

_IMPORT = re.compile(r"^import\s[^;]*;[ \t]*\n", re.MULTILINE)  # may span lines: import {\n a,\n} from '...';
_EXPORT = re.compile(r"^export\s+(?=(async\s+)?(function|class|const|let)\b)", re.MULTILINE)


def inline_module(source: str) -> str:
    """An ES module's code usable inside another module: no imports, no exports."""
    return _EXPORT.sub("", _IMPORT.sub("", source))


def script_json(value: Any) -> str:
    """JSON safe inside <script>: '</script>' or '<!--' in a name cannot end the element."""
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c")


def standalone_html(info: dict[str, Any], sources: dict[str, str], title: str | None = None) -> str:
    engine = "\n".join(inline_module((ENGINE_DIR / f).read_text(encoding="utf-8")) for f in ("gl.js", "nca.js"))
    if "</script" in engine.lower():  # would end the inline <script> element early
        raise ValueError("the engine's JavaScript contains '</script': it cannot be inlined")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True, keep_trailing_newline=True)
    template = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    return template.render(
        title=title or info["name"],
        bundle_json=Markup(script_json({"model": info, "sources": sources})),
        engine=Markup(engine),
    )
