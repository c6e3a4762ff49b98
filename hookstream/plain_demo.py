"""A Plain support thread for the demo: Plain-shaped ``thread.chat_sent`` events.

The shape follows Plain's webhook envelope (``id``, ``type``, ``timestamp``,
``workspaceId``, ``payload.thread``, ``payload.chat.text``); the sender adds the
signed ``webhookMetadata``. The dev config routes them to
``plain/thread/{payload.thread.id}`` and the demo page shows ``payload.chat.text``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson

THREAD_ID = "th_01HOOKSTREAMDEMO"
LINES = (
    ("customer", "Hi! My webhook deliveries stopped arriving this morning."),
    ("agent", "Sorry about that: which source are they coming from?"),
    ("customer", "Stripe, into the orders topic."),
    ("agent", "Found it: the signing secret was rotated. Add the new one beside the old."),
    ("customer", "Done, events are flowing again. Thanks!"),
)


def chat_message(step: int, *, thread_id: str = THREAD_ID) -> bytes:
    """The body of the *step*-th chat message of the demo thread (the script loops)."""
    author, text = LINES[step % len(LINES)]
    now = datetime.now(UTC).isoformat()
    return orjson.dumps({
        "id": f"pEv_{uuid.uuid4().hex}",
        "type": "thread.chat_sent",
        "timestamp": now,
        "workspaceId": "w_hookstream_demo",
        "payload": {
            "eventType": "thread.chat_sent",
            "thread": {"id": thread_id, "title": "Webhooks stopped arriving",
                       "status": "TODO"},
            "chat": {"id": f"c_{uuid.uuid4().hex}", "text": f"{author}: {text}",
                     "createdAt": now},
        },
    })
