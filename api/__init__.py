"""The ingress: a Falcon WSGI app served by gunicorn (`api.app:get_app()`)."""
