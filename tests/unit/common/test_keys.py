"""Every key name is built under the namespace it is given."""

import inspect

from common import keys


def test_every_builder_puts_its_key_under_the_namespace():
    builders = [fn for name, fn in inspect.getmembers(keys, inspect.isfunction)
                if fn.__module__ == keys.__name__ and name.endswith("_key")
                and name != "event_seen_key"]
    assert len(builders) >= 14
    for build in builders:
        params = list(inspect.signature(build).parameters)
        assert params[0] == "namespace", build.__name__
        assert build("ns-x", *("part",) * (len(params) - 1)).startswith("ns-x:"), build.__name__


def test_dramatiq_names_are_kept():
    assert keys.queue_key("hookstream", "deliveries") == "hookstream:deliveries"
    assert keys.messages_key("hookstream", "q") == "hookstream:q.msgs"
    assert keys.dead_letters_key("hookstream", "q.DQ") == "hookstream:q.XQ"
    assert keys.acks_key("hookstream", "w1", "q") == "hookstream:__acks__.w1.q"
    assert keys.seen_key("hookstream", "shop", "x" * 300).startswith(
        "hookstream:ingress:seen:shop:sha256-")
    assert keys.event_seen_key("hookstream:{events}:log", "e1") == "hookstream:{events}:log:seen:e1"
