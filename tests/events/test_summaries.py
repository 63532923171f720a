"""One-line summaries of every event type kernel-images writes, from its writers' fields.

The fixture (tests/events/fixtures/kernel_events.jsonl, sources in the README beside it)
has one envelope per known type as the upstream producers write it; every one must get
its own summary (not the generic ``key=value`` fallback), and these are the lines.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from tokentop.store.events.filesource import parse_line
from tokentop.store.events.model import Envelope, Event
from tokentop.tui.widgets.event_text import (
    CATEGORIES,
    KNOWN_TYPES,
    EventSummarizer,
    category_key,
    generic,
)

FIXTURE = Path(__file__).parent / "fixtures" / "kernel_events.jsonl"

EXPECTED = [
    ("console_log", "warning slow frame"),
    ("console_error", "error boom"),
    ("console_error",
     "error Uncaught TypeError: x is not a function at https://example.com/app.js:12:4"),
    ("network_request", "→ POST https://example.com/api/cart"),
    ("network_response", "← 201 POST https://example.com/api/cart 130 ms application/json"),
    ("network_loading_failed", "✗ https://cdn.example.net/x.js net::ERR_CONNECTION_RESET"),
    ("proxy_error", "proxy upstream_timeout 502 GET https://slow.example.org/ Document"),
    ("network_idle", "https://example.com/"),
    ("page_navigation", "https://example.com/"),
    ("page_dom_content_loaded", "https://example.com/"),
    ("page_load", "https://example.com/"),
    ("page_tab_opened", "tab Help https://example.com/help (opened by another tab)"),
    ("page_layout_shift", "shift 0.0312"),
    ("page_lcp", "LCP #hero https://example.com/hero.webp 120,000 px²"),
    ("page_layout_settled", "https://example.com/"),
    ("page_navigation_settled", "https://example.com/"),
    ("page_crashed", "renderer crashed https://example.com/"),
    ("interaction_click", "click button#checkout “Checkout” @640,360"),
    ("interaction_key", "key Enter on input[name=q]"),
    ("interaction_scroll_settled", "scroll 0,0 → 0,1800 in html"),
    ("api_call", "TakeScreenshot 200 42 ms"),
    ("platform_api_call", "StartRecording 201 3.2 ms"),
    ("cdp_command", "Input.dispatchMouseEvent event_type=mousePressed button=left x=640 y=360"),
    ("cdp_connect", "CDP client connected c1"),
    ("cdp_disconnect", "CDP client gone client_close after 65.0 s 812 messages"),
    ("live_view_connect", "live view lv-7"),
    ("live_view_disconnect", "live view lv-7 after 9.0 s"),
    ("system_oom_kill", "OOM killed chrome (pid 4242) RSS 2.4 GB (memcg limit)"),
    ("service_crashed", "chromium crashed while running (pid 77)"),
    ("captcha_solve_started", "solving turnstile on example.com"),
    ("captcha_solve_result", "success turnstile 1,234 ms on example.com"),
    ("captcha_challenge_result", "solved turnstile 1,234 ms on example.com"),
    ("monitor_screenshot", "screenshot png 72 B https://example.com/ · 236 B event"),
    ("monitor_disconnected", "CDP monitor lost: chrome_restarted"),
    ("monitor_reconnected", "CDP monitor back after 740 ms"),
    ("monitor_reconnect_failed", "CDP monitor gave up: reconnect_exhausted"),
    ("monitor_init_failed", "CDP monitor init failed at Target.setAutoAttach"),
]


def fixture_envelopes() -> list[Envelope]:
    out = []
    for i, line in enumerate(FIXTURE.read_bytes().splitlines(), 1):
        parsed = parse_line(line)
        assert not isinstance(parsed, str), parsed
        event, seq = parsed
        out.append(Envelope(event, seq=i, upstream_seq=seq, size=len(line)))
    return out


def test_every_known_type_is_in_the_fixture_and_summarised() -> None:
    envs = fixture_envelopes()
    assert {e.event.type for e in envs} == KNOWN_TYPES
    summarizer = EventSummarizer()
    got = [(e.event.type, summarizer.event_row(e).summary.plain) for e in envs]
    assert got == EXPECTED


@pytest.mark.parametrize("env", fixture_envelopes(), ids=lambda e: e.event.type)
def test_no_known_type_falls_back_to_the_generic_line(env: Envelope) -> None:
    summary = EventSummarizer().event_row(env).summary.plain
    data = msgspec.json.decode(bytes(env.event.data)) if env.event.has_data else None
    assert summary != generic(data).plain


def test_the_categories_are_kernels_including_platform() -> None:
    """server/lib/events/category_gen.go: platform_api_call is in ``platform``."""
    envs = {e.event.type: e for e in fixture_envelopes()}
    assert envs["platform_api_call"].event.category == "platform"
    assert category_key("platform") == "platform" and "platform" in CATEGORIES
    for env in envs.values():
        assert category_key(env.event.category) == env.event.category


def test_an_uncaught_exception_is_an_error_without_a_level() -> None:
    """console_error from Runtime.exceptionThrown carries no ``level``
    (cdpmonitor/handlers.go handleExceptionThrown): still shown as an error."""
    env = next(e for e in fixture_envelopes()
               if e.event.source.event == "Runtime.exceptionThrown")
    assert b'"level"' not in bytes(env.event.data)
    text = EventSummarizer().event_row(env).summary
    assert text.plain.startswith("error ")
    assert "#e06c75" in str(text.spans[0].style)


def test_old_guessed_fields_no_longer_make_a_summary() -> None:
    """api_call's ``operation`` and layout shift's top-level ``score`` are not what
    kernel writes: such payloads get the generic line, not a made-up one."""
    for type_, data in (("api_call", b'{"operation":"goto","status":200}'),
                        ("page_layout_shift", b'{"score":0.1}'),
                        ("interaction_scroll_settled", b'{"x":0,"y":10}')):
        env = Envelope(Event(type=type_, data=msgspec.Raw(data)), seq=1)
        assert "=" in EventSummarizer().event_row(env).summary.plain
