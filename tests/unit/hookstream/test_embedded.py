"""An embedded server left running by a SIGKILLed owner is shut down, data kept, before
a new one starts on the same data directory (two AOF writers would corrupt it)."""

import redis

from hookstream.embedded import EmbeddedRedis, stop_orphan


def test_a_new_server_replaces_an_orphan_on_the_same_data(tmp_path):
    orphan = EmbeddedRedis(tmp_path / "valkey").start()
    redis.Redis.from_url(orphan.url).set("kept", "yes")
    successor = EmbeddedRedis(tmp_path / "valkey")  # as if the owner had been SIGKILLed
    try:
        successor.start()
        assert not orphan._server.is_running()
        assert redis.Redis.from_url(successor.url).get("kept") == b"yes"
    finally:
        successor.stop()
        orphan.stop()


def test_nothing_to_stop_without_a_server_on_that_directory(tmp_path):
    assert stop_orphan(tmp_path) is False
    first = EmbeddedRedis(tmp_path / "a").start()
    try:
        (tmp_path / "b").mkdir()
        (tmp_path / "b" / "valkey.conf").write_text(f"port {first.port}\n")  # another dir's
        assert stop_orphan(tmp_path / "b") is False
        assert first._server.is_running()
    finally:
        first.stop()
