"""`nca serve`: run the studio (FastAPI + uvicorn) on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nca import exits

from .settings import DEFAULT_DATA_DIR


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="run the studio web app (gallery, realtime WebGL player, upload-and-train)",
        description="Serve NCA Studio: open the printed URL in a browser with WebGL2.",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="also answer to this Host name (e.g. a reverse proxy's); repeatable. "
                        "Requests naming any other host are refused (DNS rebinding)")
    p.add_argument("--token", default=None,
                   help="the access token required when serving beyond loopback (default: a new random one, "
                        "printed in the URL at start)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR,
                   help=f"data directory for trained models and jobs (default ./{DEFAULT_DATA_DIR})")
    p.add_argument("--models", type=Path, default=None,
                   help="directory of bundled (read-only) model bundles (default: the package's web/models)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads per training job (default 0: every core but one, "
                        "which the page's WebGL needs where it runs on the CPU)")
    p.add_argument("--device", default="auto", help="training device: auto, cpu, cuda, mps (default auto)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"],
                   help="how much the server logs (default: info)")
    p.set_defaults(func=run)


def choose_token(host: str, given: str | None) -> str | None:
    """Beyond loopback a token is a must (a random one unless given); on loopback only if asked for."""
    from .security import is_loopback, new_token

    if given:
        return given
    return None if is_loopback(host) else new_token()


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app
    from .security import is_loopback
    from .settings import BUNDLED_MODELS_DIR, Settings

    if not (0 < args.port < 65536):
        print(f"error: --port must be 1-65535, got {args.port}", file=sys.stderr)
        return exits.USER_ERROR
    token = choose_token(args.host, args.token)
    settings = Settings(data_dir=args.data, bundled_models_dir=args.models or BUNDLED_MODELS_DIR,
                        train_threads=max(0, args.threads), device=args.device, host=args.host,
                        allow_hosts=tuple(args.allow_host), token=token)
    app = create_app(settings)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else (f"[{args.host}]" if ":" in args.host else args.host)
    url = f"http://{shown}:{args.port}/" + (f"?token={token}" if token else "")
    if token and not is_loopback(args.host):
        print(f"serving beyond this machine on {args.host}: every request needs the token in this URL",
              file=sys.stderr)
    print(f"NCA Studio on {url} (data in {settings.data_dir.resolve()})", file=sys.stderr)
    # Open event streams (a page watching a job) would otherwise hold Ctrl+C up indefinitely;
    # after the grace period the app's shutdown still checkpoints a running job (-> interrupted).
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, timeout_graceful_shutdown=3)
    return 0
