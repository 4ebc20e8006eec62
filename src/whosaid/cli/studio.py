"""`whosaid studio [--url URL] [--token TOKEN] COMMAND ...`: the annotation loop
against a Label Studio server.

project -> import -> check -> predictions (pre-annotations) -> annotators correct
-> export (a new file in data/) -> `whosaid train` lists that file.

Live: `whosaid serve` answers Label Studio with pre-annotations and uncertainty
scores; `studio suggest` lists the most uncertain tasks still to annotate; `studio
train` continues training a model on the project's annotations (configs/update.yaml:
replay of the original data, held-out check, served only if not worse).

The server URL and API token come from `--url`/`--token` (before or after the
subcommand) or `LABEL_STUDIO_URL` / `LABEL_STUDIO_API_KEY`. The token, and credentials
written inside the URL, are only handed to the client: never printed, logged or
written; every message, usage errors included, is scrubbed of them in every form they
can take (as is, JSON- or percent-escaped). A server answer that lacks what was asked
for (a project id, say) is an error, not a success. Every failure (server
unreachable, token refused, project missing, timeout, bad data) ends in one line on
stderr and exit status 1, never a traceback; a missing or malformed URL or token is a
configuration error (exit status 2) found before any request.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Callable

from whosaid.studio.client import (TOKEN_ENV, URL_ENV, Connection, StudioError, check_model_labels, connect,
                                   connection_settings, describe_failure, export_project, import_articles,
                                   scrub, upload_predictions, upsert_project, url_secrets)

EXIT_ERROR, EXIT_USAGE = 1, 2


class SecretParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors never show a secret (the token, credentials
    in the URL), in any form `scrub` knows; the secrets are found in argv first."""

    secrets: tuple[str, ...] = ()

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {scrub(message, *SecretParser.secrets)}\n")


def _option_values(argv: list[str], option: str) -> list[str]:
    """Values given to `option` (or an abbreviation argparse would accept) in argv."""
    out = []
    for i, arg in enumerate(argv):
        name, eq, value = arg.partition("=")
        if len(name) > 3 and option.startswith(name):
            if eq:
                out.append(value)
            elif i + 1 < len(argv):
                out.append(argv[i + 1])
    return out


def argv_secrets(argv: list[str], env: dict | None = None) -> tuple[str, ...]:
    """Every secret the command line or environment holds: tokens, URL credentials."""
    env = os.environ if env is None else env
    tokens = _option_values(argv, "--token") + [env.get(TOKEN_ENV) or ""]
    urls = _option_values(argv, "--url") + [env.get(URL_ENV) or ""]
    return tuple(s for s in tokens + [c for u in urls for c in url_secrets(u)] if s and s.strip())


def _connection_options(parser: argparse.ArgumentParser, top: bool) -> None:
    """--url --token --timeout: accepted before the subcommand and after it."""
    default = (lambda value: value) if top else (lambda value: argparse.SUPPRESS)
    parser.add_argument("--url", default=default(None), help=f"server URL (default: ${URL_ENV})")
    parser.add_argument("--token", default=default(None),
                        help=f"API token (default: ${TOKEN_ENV}; prefer the variable: "
                             "arguments are visible to other users in the process list)")
    parser.add_argument("--timeout", type=float, default=default(30.0),
                        help="seconds to wait for each server answer (default 30)")


def build_parser() -> argparse.ArgumentParser:
    parser = SecretParser(
        prog="whosaid studio", description="The annotation loop with a Label Studio server.")
    _connection_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("project", help="create or update (by title) a project; prints its id")
    p.add_argument("--title", required=True)
    p.add_argument("--label-config", type=Path, default=None,
                   help="labeling config (default data/label-config.xml)")

    p = sub.add_parser("import", help="import articles (.txt, folders of .txt, .jsonl) as tasks")
    p.add_argument("--project", type=int, required=True)
    p.add_argument("inputs", nargs="+", type=Path)

    for name, help_ in (("check", "refuse a project lacking a layer or label the model needs"),
                        ("predictions", "upload `predict.py --format labelstudio` output as "
                                        "pre-annotations")):
        p = sub.add_parser(name, help=help_)
        p.add_argument("--project", type=int, required=True)
        p.add_argument("--model", type=Path, default=None,
                       help="model directory whose config.json schema is required")
        p.add_argument("--label-config", type=Path, default=None,
                       help="required labeling config when no --model (default data/label-config.xml)")
        if name == "predictions":
            p.add_argument("file", type=Path)
            p.add_argument("--model-version", default=None,
                           help="model_version to record (default: the file's)")

    p = sub.add_parser("export", help="export annotations to a new file in data/; prints its path")
    p.add_argument("--project", type=int, required=True)
    p.add_argument("--output-dir", type=Path, default=Path("data"))
    p.add_argument("--name", default=None,
                   help="label used in the file name instead of the project id")

    from whosaid.studio.updating import DEFAULT_RECIPE

    p = sub.add_parser("train", help="continue training a model on the project's annotations "
                                     "(update recipe; decision and metrics in the run directory)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--project", type=int, help="export this project's annotations (atomically, into "
                                                    "WORKDIR/exports) and train on them")
    source.add_argument("--annotations", type=Path,
                        help="a Label Studio JSON export instead of a project (no server needed)")
    p.add_argument("--model", type=Path, required=True, help="the model to continue from (the served one)")
    p.add_argument("--config", type=Path, default=DEFAULT_RECIPE, help=f"update recipe (default {DEFAULT_RECIPE})")
    p.add_argument("--workdir", type=Path, default=Path("runs") / "studio",
                   help="exports, runs (updates/) and caches (default runs/studio)")
    p.add_argument("--run-dir", type=Path, default=None,
                   help="the run directory (default WORKDIR/updates/update-<UTC time>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a recipe value, e.g. --set training.epochs=1 or update.new_weight=2")
    p.add_argument("--polnear", default=None, help="PolNeAR root for the recipe's replay and dev data")

    p = sub.add_parser("suggest", help="the K most uncertain tasks nobody has annotated or skipped")
    p.add_argument("--project", type=int, required=True)
    p.add_argument("-k", type=int, default=10, help="how many (default 10)")
    p.add_argument("--model", type=Path, default=None,
                   help="score the tasks with this model now (default: the uncertainty score of each "
                        "task's latest prediction, as `whosaid serve` sets it)")
    for command in sub.choices.values():  # the connection options after the subcommand too
        _connection_options(command, top=False)
    return parser


def resolve_connection(args: argparse.Namespace, env: dict | None = None) -> Connection:
    return connection_settings(args.url, args.token, args.timeout, env)


# ----------------------------------------------------------------------- commands


def cmd_project(client: Any, args: argparse.Namespace) -> int:
    project_id, created = upsert_project(client, args.title, args.label_config)
    print(f"{'created' if created else 'updated'} project {project_id}", file=sys.stderr)
    print(project_id)
    return 0


def cmd_import(client: Any, args: argparse.Namespace) -> int:
    new, total = import_articles(client, args.project, args.inputs)
    print(f"imported {new} task(s) into project {args.project}; "
          f"{total - new} already there", file=sys.stderr)
    print(new)
    return 0


def cmd_predictions(client: Any, args: argparse.Namespace) -> int:
    count, skipped = upload_predictions(client, args.project, args.file, model=args.model,
                                        label_config=args.label_config, model_version=args.model_version)
    print(f"uploaded {count} prediction(s) to project {args.project}; {skipped} skipped "
          "(a prediction of that model_version is already there)", file=sys.stderr)
    print(count)
    return 0


def cmd_export(client: Any, args: argparse.Namespace) -> int:
    path, docs = export_project(client, args.project, args.output_dir, name=args.name, timeout=args.timeout)
    if docs is None:
        print(f"nothing changed since {path.name}", file=sys.stderr)
        print(path)
        return 0
    kinds = [(d.metadata.get("annotation") or {}).get("kind") for d in docs]
    print(f"exported {len(docs)} task(s): {kinds.count('annotation')} with annotations, "
          f"{kinds.count('prediction')} with predictions only (read as silver), "
          f"{kinds.count(None)} with neither", file=sys.stderr)
    print(path)
    return 0


def cmd_check(client: Any, args: argparse.Namespace) -> int:
    needed_from = check_model_labels(client, args.project, args.model, args.label_config)
    print(f"project {args.project} has every layer and label of {needed_from}")
    return 0


def cmd_train(client: Any, args: argparse.Namespace) -> int:
    import logging

    from whosaid.studio.updating import new_run_name, run_update, summary, update_from_project, workdir_paths

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.project is not None:
        decision = update_from_project(client, args.project, args.model, args.workdir, run_dir=args.run_dir,
                                       recipe=args.config, overrides=args.overrides, polnear=args.polnear,
                                       timeout=args.timeout)
    else:
        paths = workdir_paths(args.workdir)
        run_dir = args.run_dir if args.run_dir is not None else paths["updates"] / new_run_name()
        decision = run_update(args.model, args.annotations, run_dir, recipe=args.config, overrides=args.overrides,
                              polnear=args.polnear, cache_dir=paths["cache"],
                              source={"annotations": str(args.annotations)})
    print(summary(decision), file=sys.stderr)
    for reason in decision["reasons"]:
        print(f"  {reason}", file=sys.stderr)
    print(Path(decision["model"]).parent)
    return 0


def cmd_suggest(client: Any, args: argparse.Namespace) -> int:
    from whosaid.studio.uncertainty import MEASURE, suggest_tasks

    if args.k < 1:
        raise StudioError("-k must be at least 1")
    predictor = None
    if args.model is not None:
        from whosaid.inference.predictor import Predictor

        predictor = Predictor.from_pretrained(args.model)
    rows, unranked = suggest_tasks(client, args.project, args.k, predictor)
    print(f"{len(rows)} most uncertain unannotated task(s) of project {args.project} "
          f"(score: {MEASURE})" + (f"; {unranked} task(s) without a scored prediction not ranked "
                                   "(connect `whosaid serve` or pass --model)" if unranked else ""),
          file=sys.stderr)
    print("task\tscore\tmodel_version\tid\ttext")
    for r in rows:
        print(f"{r['task']}\t{r['score']:.4f}\t{r['model_version'] or ''}\t{r['id'] or ''}\t{r['title']}")
    return 0


COMMANDS = {"project": cmd_project, "import": cmd_import, "predictions": cmd_predictions,
            "export": cmd_export, "check": cmd_check, "train": cmd_train, "suggest": cmd_suggest}


def needs_server(args: argparse.Namespace) -> bool:
    """Every command talks to Label Studio except `train --annotations FILE`."""
    return not (args.command == "train" and args.project is None)


def main(argv: list[str] | None = None,
         client_factory: Callable[[Connection], Any] = connect) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    SecretParser.secrets = argv_secrets(argv)
    args = build_parser().parse_args(argv)
    conn: Connection | None = None
    try:
        if not needs_server(args):
            return COMMANDS[args.command](None, args)
        try:
            conn = resolve_connection(args)
        except StudioError as exc:  # a configuration error: no request was made
            print(f"whosaid studio {args.command}: error: {scrub(str(exc), *SecretParser.secrets)}",
                  file=sys.stderr)
            return EXIT_USAGE
        return COMMANDS[args.command](client_factory(conn), args)
    except KeyboardInterrupt:
        print("whosaid studio: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - every failure becomes one clean line
        secrets = SecretParser.secrets + ((conn.token, *url_secrets(conn.url)) if conn else ())
        message = describe_failure(exc, conn, getattr(args, "project", None))
        print(f"whosaid studio {args.command}: error: {scrub(message, *secrets)}", file=sys.stderr)
        return EXIT_ERROR
