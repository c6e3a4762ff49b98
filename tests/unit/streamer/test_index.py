from streamer.index import SubscriptionIndex


def test_matches_exact_single_and_multi_level_patterns():
    index = SubscriptionIndex()
    index.add("exact", ["a/b/c"])
    index.add("plus", ["a/+/c"])
    index.add("hash", ["a/#"])
    index.add("all", ["#"])
    index.add("other", ["x/y"])
    assert index.match("a/b/c") == {"exact", "plus", "hash", "all"}
    assert index.match("a") == {"hash", "all"}
    assert index.match("x/y") == {"other", "all"}
    assert index.match("x/y/z") == {"all"}


def test_a_subscriber_with_overlapping_patterns_matches_once():
    index = SubscriptionIndex()
    index.add("s", ["a/#", "a/+", "a/b"])
    assert index.match("a/b") == {"s"}


def test_remove_prunes_and_counts():
    index = SubscriptionIndex()
    index.add("s1", ["a/+", "b"])
    index.add("s2", ["a/+"])
    assert index.counts_by_pattern() == {"a/+": 2, "b": 1}
    index.remove("s1", ["a/+", "b"])
    assert index.match("a/x") == {"s2"}
    assert index.match("b") == set()
    index.remove("s2", ["a/+"])
    assert index.counts_by_pattern() == {}
    assert index._root.children == {}
