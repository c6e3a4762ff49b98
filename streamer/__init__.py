"""The SSE streamer: Starlette app served by uvicorn (`streamer.app:get_app`, factory)."""
