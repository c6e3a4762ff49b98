import pytest

from common.errors import InvalidTopic
from common.topics import covers, matches, validate_pattern, validate_topic


@pytest.mark.parametrize(("pattern", "topic", "expected"), [
    ("a/b", "a/b", True),
    ("a/b", "a/c", False),
    ("a/+", "a/b", True),
    ("a/+", "a/b/c", False),
    ("a/#", "a", True),
    ("a/#", "a/b/c", True),
    ("#", "x/y", True),
    ("+/b/#", "a/b", True),
    ("+/b/#", "a/c/d", False),
])
def test_matches(pattern, topic, expected):
    assert matches(pattern, topic) is expected


@pytest.mark.parametrize(("granted", "wanted", "expected"), [
    ("orders/#", "orders/+/paid", True),
    ("orders/#", "#", False),
    ("orders/+", "orders/1", True),
    ("orders/+", "orders/#", False),
    ("orders/1", "orders/+", False),
    ("#", "anything/#", True),
])
def test_covers(granted, wanted, expected):
    assert covers(granted, wanted) is expected


@pytest.mark.parametrize("bad", ["", "a//b", "a/#/b", "a b", "a/\n", "x" * 300])
def test_invalid_patterns(bad):
    with pytest.raises(InvalidTopic):
        validate_pattern(bad)


@pytest.mark.parametrize("bad", ["a/+", "a/#", "a/b c"])
def test_topics_have_no_wildcards(bad):
    with pytest.raises(InvalidTopic):
        validate_topic(bad)
