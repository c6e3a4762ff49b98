import httpx

from hookstream.demo_trigger import serve_trigger
from hookstream.embedded import free_port


def test_post_send_sends_one_and_reports_the_ingress_status():
    sent = []

    def send_one() -> int:
        sent.append(1)
        return 202

    port = free_port()
    server = serve_trigger(send_one, port=port)
    try:
        reply = httpx.post(f"http://127.0.0.1:{port}/send")
        assert reply.json() == {"ingress_status": 202}
        assert reply.headers["access-control-allow-origin"] == "*"
        assert sent == [1]
        assert httpx.post(f"http://127.0.0.1:{port}/other").status_code == 404
    finally:
        server.shutdown()
        server.server_close()


def test_an_unreachable_ingress_is_a_502():
    def send_one() -> int:
        raise httpx.ConnectError("refused")

    port = free_port()
    server = serve_trigger(send_one, port=port)
    try:
        reply = httpx.post(f"http://127.0.0.1:{port}/send")
        assert reply.status_code == 502
        assert reply.json()["error"]["code"] == "unavailable"
    finally:
        server.shutdown()
        server.server_close()
