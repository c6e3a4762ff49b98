import orjson
import pytest

from common.errors import InvalidTopic, TemplateError
from common.events import Event, InvalidEvent
from common.templates import render


def test_event_round_trips_through_its_log_fields():
    event = Event(topic="a/b", type="thing.happened", data={"x": 1}, source="test")
    fields = {k.encode(): v if isinstance(v, bytes) else v.encode()
              for k, v in event.to_fields().items()}
    assert Event.from_fields(fields) == event
    assert set(orjson.loads(event.to_json())) == {"id", "topic", "type", "data", "time", "source"}


@pytest.mark.parametrize("kwargs", [
    {"topic": "a/+"}, {"type": "bad type\n"}, {"id": "id\nwith newline"}, {"id": ""},
])
def test_event_rejects_values_that_could_break_a_frame(kwargs):
    base = {"topic": "a", "type": "t", "data": None, "source": "s"}
    with pytest.raises((InvalidEvent, InvalidTopic)):
        Event(**{**base, **kwargs})


def test_render_fills_paths_and_defaults():
    payload = {"type": "order.paid", "data": {"customer_id": "c/1#x"}, "source": "shop"}
    assert render("orders/{data.customer_id}", payload) == "orders/c_1_x"
    assert render("{type|webhook.received}", payload) == "order.paid"
    assert render("{type|webhook.received}", {}) == "webhook.received"


def test_render_without_default_names_the_missing_field():
    with pytest.raises(TemplateError, match=r"data\.customer_id"):
        render("orders/{data.customer_id}", {"data": {}})
