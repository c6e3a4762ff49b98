"""The `hookstream` command: run everything locally, send demo webhooks, operate."""
