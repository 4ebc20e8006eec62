"""`whosaid serve --model DIR [--host 127.0.0.1] [--port 9090] [--workdir DIR]`: the model
as a Label Studio ML backend (pre-annotations, uncertainty scores, training from the
project). See `whosaid.studio.server` for the API and README "Live annotation loop".

Connect it in Label Studio: project settings -> Model -> Connect Model, URL
`http://127.0.0.1:9090` (Label Studio refuses local addresses unless it was started
with ML_BLOCK_LOCAL_IP=false). Training from the project (the "Start Training"
button) exports the annotations through Label Studio's API: start the server with
$LABEL_STUDIO_URL and $LABEL_STUDIO_API_KEY set (else the address and token Label
Studio sends on connection are used).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from whosaid.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    from whosaid.studio.server import DEFAULT_HOST, DEFAULT_PORT, SECRET_ENV
    from whosaid.studio.updating import DEFAULT_RECIPE

    p = argparse.ArgumentParser(prog="whosaid serve", description="Serve a whosaid model to Label Studio "
                                "(the ML backend API: /health, /setup, /predict, /webhook).")
    p.add_argument("--model", type=Path, default=None,
                   help="saved model directory (default: the shipped models/whosaid-news, or $WHOSAID_MODEL)")
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--workdir", type=Path, default=Path("runs") / "studio",
                   help="exports, update runs and the served version live here (default runs/studio)")
    p.add_argument("--model-version", default=None,
                   help="version name of --model in predictions (default PARENT/NAME of its directory)")
    p.add_argument("--token", default=None,
                   help=f"shared secret every request must carry (default ${SECRET_ENV}; prefer the variable: "
                        "arguments are visible in the process list)")
    p.add_argument("--allow-unauthenticated", action="store_true",
                   help="listen on a non-loopback --host without a shared secret")
    p.add_argument("--config", type=Path, default=DEFAULT_RECIPE,
                   help=f"update recipe for training from the project (default {DEFAULT_RECIPE})")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a value of the update recipe (repeatable)")
    p.add_argument("--polnear", default=None, help="PolNeAR root for the recipe's replay and dev data")
    p.add_argument("--label-studio-url", default=None,
                   help="Label Studio to export annotations from (default $LABEL_STUDIO_URL, else the "
                        "address Label Studio sends on connection)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for predictions")
    p.add_argument("--batch-size", type=int, default=None, help="windows per forward pass")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return p


def main(argv: list[str] | None = None) -> int:
    from whosaid.studio.client import TOKEN_ENV, URL_ENV
    from whosaid.studio.server import SECRET_ENV, ModelService, create_app, is_loopback

    args = build_parser().parse_args(argv)
    if args.model is None:
        from whosaid.errors import ModelLoadError
        from whosaid.files import default_model_dir

        try:
            args.model = default_model_dir()
        except ModelLoadError as exc:
            print(f"whosaid serve: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    secret = (args.token or os.environ.get(SECRET_ENV) or "").strip() or None
    if not is_loopback(args.host) and secret is None and not args.allow_unauthenticated:
        print(f"whosaid serve: error: --host {args.host} is reachable from other machines; set a shared "
              f"secret (${SECRET_ENV} or --token) or pass --allow-unauthenticated", file=sys.stderr)
        return EXIT_USAGE
    if not 0 < args.port < 65536:
        print("whosaid serve: error: --port must be in 1-65535", file=sys.stderr)
        return EXIT_USAGE
    if (args.threads is not None and args.threads < 1) or (args.batch_size is not None and args.batch_size < 1):
        print("whosaid serve: error: --threads and --batch-size must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if not args.config.is_file():
        print(f"whosaid serve: error: update recipe not found: {args.config}", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from whosaid.errors import WhosaidError
    from whosaid.studio.server import load_predictor

    try:
        service = ModelService(
            args.model, workdir=args.workdir, model_version=args.model_version, recipe=args.config,
            overrides=args.overrides, polnear=args.polnear,
            label_studio_url=(args.label_studio_url or os.environ.get(URL_ENV) or "").rstrip("/") or None,
            label_studio_token=os.environ.get(TOKEN_ENV) or None,
            loader=lambda d, v: load_predictor(d, v, batch_size=args.batch_size, threads=args.threads))
    except (WhosaidError, OSError) as exc:
        print(f"whosaid serve: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    import uvicorn

    print(f"serving {service.current.version} ({service.current.model_dir}) at http://{args.host}:{args.port}"
          f"{' (shared secret required)' if secret else ''}", file=sys.stderr, flush=True)
    uvicorn.run(create_app(service, secret), host=args.host, port=args.port, log_level=args.log_level,
                access_log=args.log_level == "debug")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
