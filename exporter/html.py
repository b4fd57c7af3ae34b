"""The standalone single-file HTML export: the engine, the bundle and a small UI in one page.

No server and no network: the model and the rendered GLSL are embedded as JSON, and the
engine modules (exporter/js/gl.js, field.js, nca.js; the studio page imports the same files) are inlined
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
ENGINE_FILES = ("gl.js", "field.js", "nca.js")  # dependencies first: they are inlined into one module

_IMPORT = re.compile(r"^import\s[^;]*;[ \t]*\n", re.MULTILINE)  # may span lines: import {\n a,\n} from '...';
_EXPORT = re.compile(r"^export\s+(?=(async\s+)?(function|class|const|let)\b)", re.MULTILINE)


def inline_module(source: str) -> str:
    """An ES module's code usable inside another module: no imports, no exports."""
    return _EXPORT.sub("", _IMPORT.sub("", source))


def script_json(value: Any) -> str:
    """JSON safe inside <script>: '</script>' or '<!--' in a name cannot end the element."""
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c")


def standalone_html(info: dict[str, Any], sources: dict[str, str], title: str | None = None) -> str:
    engine = "\n".join(inline_module((ENGINE_DIR / f).read_text(encoding="utf-8")) for f in ENGINE_FILES)
    if "</script" in engine.lower():  # would end the inline <script> element early
        raise ValueError("the engine's JavaScript contains '</script': it cannot be inlined")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True, keep_trailing_newline=True)
    template = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    return template.render(
        title=title or info["name"],
        bundle_json=Markup(script_json({"model": info, "sources": sources})),
        engine=Markup(engine),
    )


SHADER_FILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.frag$")


def standalone_html_for_bundle(bundle_dir: str | Path, title: str | None = None) -> str:
    """The standalone page of an exported bundle directory (its model.json and shaders), the same
    page `export(..., html=...)` writes. Shader names come from model.json: only plain `*.frag`
    names inside the bundle are read."""
    bundle_dir = Path(bundle_dir)
    info = json.loads((bundle_dir / "model.json").read_text(encoding="utf-8"))
    sources = {}
    for program, file in info["shaders"].items():
        if not isinstance(file, str) or not SHADER_FILE_RE.match(file):
            raise ValueError(f"model.json names an unusable shader file {file!r}")
        sources[program] = (bundle_dir / file).read_text(encoding="utf-8")
    return standalone_html(info, sources, title)
