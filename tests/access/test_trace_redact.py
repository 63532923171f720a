"""Redaction of gateway headers (tokentop.tui.widgets.trace_redact): no credential reaches
the UI."""

from __future__ import annotations

import json

from tokentop.store.redact import REDACTED, redact_header_text, redact_headers

SECRET = "sk-ant-api03-0123456789abcdef"


def test_go_http_header_json() -> None:
    raw = json.dumps({
        "Authorization": [f"Bearer {SECRET}"], "X-Api-Key": [SECRET], "api-key": [SECRET],
        "Cookie": ["gw_session=abc123; theme=dark"],
        "Set-Cookie": ["__cf_bm=zzz; path=/; HttpOnly"], "Content-Type": ["application/json"],
        "X-Goog-Api-Key": [SECRET]})
    out = redact_header_text(raw)
    assert SECRET not in out and "abc123" not in out and "zzz" not in out
    doc = json.loads(out)
    assert doc["Authorization"] == [f"Bearer {REDACTED}"]
    assert doc["X-Api-Key"] == [REDACTED] and doc["api-key"] == [REDACTED]
    assert doc["Cookie"] == [f"gw_session={REDACTED}; theme={REDACTED}"]
    assert doc["Set-Cookie"] == [f"__cf_bm={REDACTED}; path=/; HttpOnly"]
    assert doc["Content-Type"] == ["application/json"]  # the rest is untouched
    assert out.startswith("{\n  ")  # pretty-printed


def test_flat_mapping_any_case() -> None:
    out = redact_headers({"AUTHORIZATION": "Basic dXNlcjpwYXNz", "x-API-key": SECRET,
                          "accept": "*/*"})
    assert out == {"AUTHORIZATION": f"Basic {REDACTED}", "x-API-key": REDACTED,
                   "accept": "*/*"}


def test_bare_token_and_non_json_text() -> None:
    assert redact_headers({"Authorization": SECRET})["Authorization"] == REDACTED
    text = f"Authorization: Bearer {SECRET}\ncookie: a=1\nUser-Agent: curl/8"
    out = redact_header_text(text)
    assert SECRET not in out and "a=1" not in out and "User-Agent: curl/8" in out


def test_nothing_stored() -> None:
    assert redact_header_text(None) == "" and redact_header_text("") == ""
    assert redact_headers(["not", "a", "mapping"]) == ["not", "a", "mapping"]


def test_header_lines() -> None:
    from tokentop.tui.widgets.trace_redact import header_lines

    raw = json.dumps({"X-Api-Key": [SECRET], "Accept": ["a", "b"], "Cookie": "s=1"})
    assert header_lines(raw) == (f"X-Api-Key: {REDACTED}\nAccept: a\nAccept: b\n"
                                 f"Cookie: s={REDACTED}")
    assert SECRET not in header_lines(f"x-api-key: {SECRET}")
