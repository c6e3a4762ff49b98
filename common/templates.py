"""Templates that build topics and event types from a payload.

``orders/{data.customer_id}`` takes ``payload["data"]["customer_id"]``;
``{type|webhook.received}`` falls back to ``webhook.received`` when the payload
has no ``type``. Inserted values have characters outside the topic grammar
replaced by ``_`` so a payload can never add a segment or a wildcard.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from common.errors import TemplateError

PLACEHOLDER = re.compile(r"\{([^{}|]+)(?:\|([^{}]*))?\}")
UNSAFE = re.compile(r"[^A-Za-z0-9_.:@=~-]")
MISSING = object()


def lookup(context: Mapping[str, Any], path: str) -> Any:
    """Follow a dotted path through mappings and lists; `MISSING` when absent."""
    node: Any = context
    for part in path.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return MISSING
    return node


def template_context(payload: Any, source: str) -> dict[str, Any]:
    """What a source's templates see: the payload's fields (if it is an object) + ``source``.

    The ingress (routing check) and the worker (the event) must build the same one.
    """
    return {**(payload if isinstance(payload, dict) else {}), "source": source}


def render(template: str, context: Mapping[str, Any]) -> str:
    """Fill every ``{path}`` / ``{path|default}`` of *template* from *context*."""

    def fill(match: re.Match[str]) -> str:
        path, default = match.group(1).strip(), match.group(2)
        value = lookup(context, path)
        if value is MISSING or value is None or isinstance(value, dict | list):
            if default is None:
                raise TemplateError(f"template {template!r}: payload has no scalar {path!r}")
            return default
        return UNSAFE.sub("_", str(value)) or "_"

    return PLACEHOLDER.sub(fill, template)


def fields_of(template: str) -> list[str]:
    return [match.group(1).strip() for match in PLACEHOLDER.finditer(template)]
