"""Without Chromium the browser tests skip with the reason; under CI=true they fail."""

from pathlib import Path

import pytest

from tests.browser import chromium


def test_missing_chromium_skips_with_the_reason(monkeypatch):
    monkeypatch.setattr(chromium, "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        chromium.require_chromium()


def test_missing_chromium_fails_under_ci(monkeypatch):
    monkeypatch.setattr(chromium, "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot skip under CI=true"):
        chromium.require_chromium()
