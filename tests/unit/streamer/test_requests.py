import pytest

from streamer.errors import Rejection
from streamer.positions import format_position, parse_position
from streamer.requests import read_request


def scope(query: str = "topic=a", headers=()):
    encoded = [(name.encode(), value.encode()) for name, value in headers]
    return {"query_string": query.encode(), "headers": encoded}


@pytest.mark.parametrize("text,expected", [
    ("0-0", (0, 0)), ("1700000000000-12", (1700000000000, 12)),
    ("18446744073709551615-0", (2**64 - 1, 0))])
def test_positions_parse_and_format(text, expected):
    assert parse_position(text) == expected
    assert format_position(expected) == text


@pytest.mark.parametrize("bad", [
    "", "1", "a-1", "1-", "-1", "1-2-3", "1 -2", "18446744073709551616-0", "1-0\nid: 5",
    "\u0661-\u0662"])
def test_malformed_positions_are_400(bad):
    with pytest.raises(Rejection) as caught:
        parse_position(bad)
    assert caught.value.status == 400


def test_topics_are_validated_and_deduplicated():
    request = read_request(scope("topic=a/%2B&topic=b/%23&topic=a/%2B"), cookie_name="t")
    assert request.patterns == ("a/+", "b/#")
    for query, code in [("", "no_topic"), ("topic=a/%23/b", "invalid_topic"),
                        ("&".join(["topic=x"] * 101), "too_many_topics")]:
        with pytest.raises(Rejection) as caught:
            read_request(scope(query), cookie_name="t")
        assert (caught.value.status, caught.value.code) == (400, code)


def test_last_event_id_header_wins_over_the_query_parameter():
    both = scope("topic=a&lastEventId=5-0", [("Last-Event-ID", "7-1")])
    assert read_request(both, cookie_name="t").last_position == (7, 1)
    assert read_request(scope("topic=a&lastEventId=5-0"), cookie_name="t").last_position == (5, 0)
    assert read_request(scope("topic=a"), cookie_name="t").last_position is None


def test_token_from_bearer_then_cookie_then_query():
    query = "topic=a&access_token=from-query"
    cookie = ("Cookie", "other=1; tok=from-cookie")
    bearer = ("Authorization", "Bearer from-header")
    assert read_request(scope(query, [cookie, bearer]), cookie_name="tok").token == "from-header"
    assert read_request(scope(query, [cookie]), cookie_name="tok").token == "from-cookie"
    assert read_request(scope(query), cookie_name="tok").token == "from-query"
    assert read_request(scope("topic=a", [("Authorization", "Basic xyz")]),
                        cookie_name="tok").token is None
