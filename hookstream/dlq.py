"""`hookstream dlq list|show|replay|purge`: look at and act on the workers' dead letters.

Output never shows secrets: values under secret-looking keys are masked, and
so are credentials inside URLs.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from common.logs import MASK, SECRET_KEY
from common.redis import connect
from common.settings import Settings
from workers.deadletters import DeadLetter, DeadLetters

URL_CREDENTIALS = re.compile(r"(\w+://)[^/@\s]+@")
ERROR_CHARS = 60
PAST = {"replay": "replayed", "purge": "purged"}


def add_parser(commands: Any) -> None:
    dlq = commands.add_parser("dlq", help="list, show, replay or purge dead letters")
    actions = dlq.add_subparsers(dest="dlq_action", required=True)
    listing = actions.add_parser("list", help="one line per dead letter, oldest first")
    listing.add_argument("--queue", help="only this queue")
    show = actions.add_parser("show", help="one dead letter in full")
    show.add_argument("id", help="its id (or a unique prefix of 6+ characters)")
    for name, verb in (("replay", "put back on its queue"), ("purge", "delete for good")):
        action = actions.add_parser(name, help=f"{verb}: one dead letter, or --all")
        action.add_argument("id", nargs="?", help="its id (or a unique prefix)")
        action.add_argument("--all", action="store_true", help="every dead letter (of --queue)")
        action.add_argument("--queue", help="with --all: only this queue")


def run(settings: Settings, args: argparse.Namespace) -> int:
    workers = settings.workers
    store = DeadLetters(connect(settings.require_redis_url()), workers.namespace,
                        workers.queues)
    if args.dlq_action == "list":
        return _list(store, args.queue)
    if args.dlq_action == "show":
        print(describe(store.find(args.id)))
        return 0
    letters = _targets(store, args)
    if letters is None:
        return 2
    act = store.replay if args.dlq_action == "replay" else store.purge
    done = sum(act(letter) for letter in letters)
    print(f"{PAST[args.dlq_action]} {done} dead letter(s)")
    return 0


def _targets(store: DeadLetters, args: argparse.Namespace) -> list[DeadLetter] | None:
    if args.all == bool(args.id):
        print(f"hookstream dlq {args.dlq_action}: give an id or --all (not both)", file=sys.stderr)
        return None
    if args.all:
        return store.entries(queue=args.queue, limit=-1)
    return [store.find(args.id)]


def _list(store: DeadLetters, queue: str | None) -> int:
    letters = store.entries(queue=queue, limit=-1)
    if not letters:
        print("no dead letters")
        return 0
    rows = [("ID", "QUEUE", "ACTOR", "DEAD AT (UTC)", "ATTEMPTS", "ERROR")]
    rows += [(letter.id, letter.queue, letter.message.actor_name, _when(letter.dead_at_ms),
              str(letter.attempts), _short(redact_text(letter.error))) for letter in letters]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
              .rstrip())
    return 0


def describe(letter: DeadLetter) -> str:
    message = letter.message
    reason = message.options.get("dead_letter") or {}
    trace = reason.get("traceback") or message.options.get("traceback") or ""
    lines = [
        f"id          {letter.id}",
        f"queue       {letter.queue}",
        f"actor       {message.actor_name}",
        f"message id  {message.message_id}",
        f"dead at     {_when(letter.dead_at_ms)} UTC",
        f"attempts    {letter.attempts}",
        f"error       {redact_text(letter.error)}",
        "args",
        _indent(orjson.dumps([redact(_parsed(arg)) for arg in message.args],
                             option=orjson.OPT_INDENT_2).decode()),
    ]
    if message.kwargs:
        lines += ["kwargs", _indent(orjson.dumps(redact(message.kwargs),
                                                 option=orjson.OPT_INDENT_2).decode())]
    if trace:
        lines += ["traceback", _indent(redact_text(str(trace)).rstrip())]
    return "\n".join(lines)


def redact(value: Any) -> Any:
    """*value* with values under secret-looking keys masked, and URL credentials hidden."""
    if isinstance(value, dict):
        return {key: MASK if SECRET_KEY.search(str(key)) else redact(item)
                for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_text(text: str) -> str:
    return URL_CREDENTIALS.sub(rf"\g<1>{MASK}@", text)


def _parsed(arg: Any) -> Any:
    """A JSON body given as a string is shown as the JSON it holds."""
    if isinstance(arg, str) and arg[:1] in "{[":
        try:
            return orjson.loads(arg)
        except orjson.JSONDecodeError:
            return arg
    return arg


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _short(text: str) -> str:
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
