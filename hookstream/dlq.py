"""How `hookstream dlq` shows the workers' dead letters: a summary row, a full description.

Output never shows secrets: values under secret-looking keys are masked, and
so are credentials inside URLs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson

from common.logs import MASK, SECRET_KEY
from workers.deadletters import DeadLetter

URL_CREDENTIALS = re.compile(r"(\w+://)[^/@\s]+@")
COLUMNS = ("ID", "QUEUE", "ACTOR", "DEAD AT (UTC)", "ATTEMPTS", "ERROR")


def summary(letter: DeadLetter) -> tuple[str, ...]:
    """One dead letter as a row under `COLUMNS` (its error redacted)."""
    return (letter.id, letter.queue, letter.message.actor_name, _when(letter.dead_at_ms),
            str(letter.attempts), " ".join(redact_text(letter.error).splitlines()))


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


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
