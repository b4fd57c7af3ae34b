"""/: the studio page, rendered with the presets and limits of this server."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from nca.config import DEFAULT_PRESET, INITS, PRESET_HELP, PRESETS, field_info

from ..deps import AppSettings
from ..settings import PACKAGE_DIR
from ..version import VERSION

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=PACKAGE_DIR / "templates")


def preset_label(name: str) -> str:
    """What the page's preset menu shows: the name and how many iterations it trains."""
    return f"{name} \u00b7 {PRESETS[name][1].iterations} it"


@router.get("/", response_class=HTMLResponse)
def index(request: Request, settings: AppSettings):
    presets = [(p, preset_label(p)) for p in settings.presets if p in PRESETS]
    return templates.TemplateResponse(request, "index.html", {
        "version": VERSION,
        "presets": presets,
        "default_preset": DEFAULT_PRESET if DEFAULT_PRESET in settings.presets else settings.presets[0],
        "upload_limit": settings.upload_limit_text,
        "inits": INITS,
        "init_help": field_info("init")["help"],
        "preset_help": "; ".join(f"{p}: {PRESET_HELP[p]}" for p in settings.presets if p in PRESET_HELP),
    })
