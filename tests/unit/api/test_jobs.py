"""Jobs are byte for byte what dramatiq's own Message.encode() writes, and dramatiq reads them."""

import dramatiq
import pytest

from api.jobs import ACTOR_NAME, encode_job
from api.queue import Delivery


@pytest.mark.parametrize("body", [
    '{"type":"order.paid","n":1}',
    '{"name":"Zoë","emoji":"\\ud83d\\ude00","ctl":"\\u0001\\n\\t","slash":"a/b"}',
    '{"raw":"Zoë 😀 — ünïcode"}',
    '{"quote":"\\"x\\"","backslash":"\\\\"}',
], ids=["ascii", "escaped-json", "raw-unicode", "quotes"])
def test_job_bytes_equal_dramatiq_message_encode(body):
    delivery = Delivery("shop", "msg_1", "shop.msg_1", body, 1_700_000_000_000)
    job = encode_job("deliveries", delivery)
    decoded = dramatiq.Message.decode(job.data)
    expected = dramatiq.Message(
        queue_name="deliveries", actor_name=ACTOR_NAME, args=delivery.job_args(), kwargs={},
        options={"redis_message_id": job.redis_message_id}, message_id=decoded.message_id,
        message_timestamp=decoded.message_timestamp)
    assert job.data == expected.encode()
    assert decoded.args == ("shop", "shop.msg_1", body, 1_700_000_000_000)
    assert decoded.options["redis_message_id"] == job.redis_message_id
