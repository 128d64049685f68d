from __future__ import annotations

from imgedge.web.redact import path_redactor, url_for_logs


def test_the_segment_after_a_secret_prefix_is_redacted() -> None:
    redact = path_redactor(("/v1/uploads/",))
    assert redact("/v1/uploads/eyJ1Ijo.secret") == "/v1/uploads/[redacted]"
    assert redact("/v1/uploads/tok/more") == "/v1/uploads/[redacted]/more"
    assert redact("/v1/uploads") == "/v1/uploads"
    assert redact("/v1/images/abc") == "/v1/images/abc"


def test_urls_lose_credentials_query_and_fragment() -> None:
    assert url_for_logs("https://user:pw@hooks.example:8443/cb?token=s#x") == "https://hooks.example:8443/cb"
    assert url_for_logs("http://[::1]:99999/") == "[redacted]"
