"""`GET /client.js` as the real streamer serves it: an ES module under 3,000 bytes gzipped."""

import gzip

import httpx
import pytest

pytestmark = pytest.mark.integration
MAX_GZIPPED_BYTES = 3000


def test_client_js_is_a_small_es_module(start_streamers):
    url = start_streamers().urls[0]
    response = httpx.get(f"{url}/client.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "export function connect(" in response.text
    # The streamer does not compress; a server or CDN in front would, so weigh
    # the served bytes gzipped at level 9.
    assert response.headers.get("content-encoding") is None
    gzipped_bytes = len(gzip.compress(response.content, compresslevel=9))
    print(f"client.js: {len(response.content)} bytes, {gzipped_bytes} gzipped")
    assert gzipped_bytes < MAX_GZIPPED_BYTES
