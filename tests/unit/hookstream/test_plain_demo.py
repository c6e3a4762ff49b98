"""The demo's Plain thread: signed as Plain signs, verified by the ingress's verifier,
routed by the dev config to ``plain/thread/{threadId}``, with the text the page shows."""

from __future__ import annotations

import orjson

from api.routing import Router
from api.verifiers.plain import PlainVerifier
from common.settings import load_settings
from hookstream.devconfig import AIRTABLE_SOURCE, PLAIN_SOURCE, demo_config_text
from hookstream.plain_demo import LINES, THREAD_ID, chat_message
from hookstream.sender import signed_delivery


def dev_settings(tmp_path, *, airtable_port=8003):
    config = tmp_path / "dev.toml"
    config.write_text(demo_config_text(airtable_port=airtable_port))
    return load_settings({"HOOKSTREAM_CONFIG": str(config)})


def test_a_demo_message_verifies_and_routes_to_its_thread(tmp_path):
    settings = dev_settings(tmp_path)
    config = settings.sources[PLAIN_SOURCE]
    body, headers = signed_delivery(settings, PLAIN_SOURCE, chat_message(0))
    verified = PlainVerifier([s.get_secret_value() for s in config.secrets]).verify(
        body, {key.lower(): value for key, value in headers.items()})
    route = Router.from_settings(PLAIN_SOURCE, config).route(verified.document)
    assert route == Router.from_settings(PLAIN_SOURCE, config).route(orjson.loads(body))
    assert (route.type, route.topic) == ("thread.chat_sent", f"plain/thread/{THREAD_ID}")
    # demo.html shows data.payload.chat.text
    assert verified.document["payload"]["chat"]["text"].endswith(LINES[0][1])


def test_messages_have_fresh_ids_and_follow_the_script():
    first, second = orjson.loads(chat_message(0)), orjson.loads(chat_message(1))
    assert first["id"] != second["id"]
    assert second["payload"]["chat"]["text"].endswith(LINES[1][1])
    assert orjson.loads(chat_message(len(LINES)))["payload"]["chat"]["text"] == \
        first["payload"]["chat"]["text"]


def test_the_dev_config_has_the_local_airtable_base_public(tmp_path):
    settings = dev_settings(tmp_path, airtable_port=9123)
    assert settings.sources[AIRTABLE_SOURCE].kind == "airtable"
    assert settings.airtable.api_url == "http://127.0.0.1:9123"
    assert settings.airtable.token is not None
    assert {"airtable/#", "plain/#"} <= set(settings.streamer.public_topics)
