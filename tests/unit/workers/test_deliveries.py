import pytest

from common.errors import TemplateError
from common.settings import SourceSettings
from workers.deliveries import event_from_delivery


def source(**overrides):
    return SourceSettings.model_validate({"kind": "standard-webhooks", "secrets": ["s"],
                                          **overrides})


def test_defaults_topic_from_source_and_type_from_payload():
    event = event_from_delivery("shop", source(), event_id="shop.m1",
                                body='{"type":"order.paid","data":{"id":7}}')
    assert (event.id, event.topic, event.type, event.source) == (
        "shop.m1", "webhooks/shop", "order.paid", "shop")
    assert event.data == {"type": "order.paid", "data": {"id": 7}}


def test_type_defaults_to_webhook_received():
    event = event_from_delivery("shop", source(), event_id="e", body="[1, 2]")
    assert event.type == "webhook.received"
    assert event.data == [1, 2]


def test_topic_template_over_payload_fields():
    config = source(topic="orders/{data.customer_id}")
    event = event_from_delivery("shop", config, event_id="e",
                                body='{"data":{"customer_id":"cus_1"}}')
    assert event.topic == "orders/cus_1"


def test_missing_template_field_is_a_permanent_error():
    with pytest.raises(TemplateError):
        event_from_delivery("shop", source(topic="orders/{data.customer_id}"), event_id="e",
                            body="{}")
