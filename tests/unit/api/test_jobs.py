"""The ingress's delivery job is a process_delivery message with the delivery's arguments."""

import dramatiq

from api.jobs import ACTOR_NAME, encode_delivery
from api.queue import Delivery


def test_a_delivery_job_carries_the_actor_and_its_arguments():
    delivery = Delivery("shop", "msg_1", "shop.msg_1", '{"raw":"Zoë"}', 1_700_000_000_000)
    job = encode_delivery("deliveries", delivery)
    decoded = dramatiq.Message.decode(job.data)
    assert (decoded.queue_name, decoded.actor_name) == ("deliveries", ACTOR_NAME)
    assert decoded.args == delivery.job_args()
    assert decoded.options == {"redis_message_id": job.redis_message_id}
