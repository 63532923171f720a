"""Credentials never printed (issue 16): ``traces --json get`` printed Authorization,
Proxy-Authorization, X-Api-Key and Cookie as stored; a password in a diagnostics URL or
a PostgreSQL DSN reached error lines. One rule (``tokentop.store.redact``) for the
screen and every headless command."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

from gateway_db import fixture_rows, write_sqlite

from tokentop.store.redact import is_secret, redact_text

SECRETS = {"Authorization": ["Bearer sk-live-AAAA"], "Proxy-Authorization": ["Basic Zm9vOmJhcg=="],
           "X-Api-Key": ["xk-BBBB"], "Cookie": ["gw_session=CCCC; theme=dark"],
           "openai-api-key": ["sk-DDDD"], "anthropic-api-key": ["sk-ant-EEEE"],
           "x-goog-api-key": ["GGGG"], "api-key": ["HHHH"], "X-Auth-Token": ["IIII"],
           "content-type": ["application/json"]}
RESPONSE = {"Set-Cookie": ["sid=JJJJ; Path=/; HttpOnly"], "content-type": ["text/plain"]}
VALUES = ["sk-live-AAAA", "Zm9vOmJhcg==", "xk-BBBB", "CCCC", "sk-DDDD", "sk-ant-EEEE", "GGGG",
          "HHHH", "IIII", "JJJJ"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tokentop.tui.cli", "traces", *args],
                          capture_output=True, text=True, timeout=60)


def test_get_prints_no_header_credential(tmp_path: Path) -> None:
    row = dataclasses.replace(fixture_rows()[0], request_headers=json.dumps(SECRETS),
                              response_headers=json.dumps(RESPONSE))
    db = tmp_path / "ongoingai.db"
    write_sqlite(db, [row])
    out = run(str(db), "--json", "get", row.id)
    assert out.returncode == 0, out.stderr
    for value in VALUES:
        assert value not in out.stdout
    trace = json.loads(out.stdout)["trace"]
    req = json.loads(trace["request_headers"])
    assert req["Authorization"] == ["Bearer [redacted]"]
    assert req["Cookie"] == ["gw_session=[redacted]; theme=[redacted]"]
    assert req["content-type"] == ["application/json"]  # the rest as stored
    assert json.loads(trace["response_headers"])["Set-Cookie"] == [
        "sid=[redacted]; Path=/; HttpOnly"]


def test_passwords_in_urls_and_dsns_never_reach_an_error_line() -> None:
    for args in (["http://user:hunter2@127.0.0.1:1/", "--json", "diagnostics"],
                 ["postgresql://u@127.0.0.1:1/db?password=hunter2", "--json", "summary"],
                 ["postgresql://u:hunter2@127.0.0.1:1/db", "--json", "summary"]):
        out = run(*args)
        assert out.returncode == 2 and "Traceback" not in out.stderr
        assert "hunter2" not in out.stderr + out.stdout, out.stderr
        assert "***" in out.stderr


def test_the_rule() -> None:
    for name in ("Authorization", "openai-api-key", "ANTHROPIC-API-KEY", "x-goog-api-key",
                 "api-key", "X-Api-Key", "Set-Cookie", "x-auth-token", "x-amz-security-token"):
        assert is_secret(name), name
    for name in ("content-type", "x-request-id", "x-ratelimit-remaining-tokens"):
        assert not is_secret(name), name
    assert redact_text("see https://u:p@h/x?a=1&token=t0k&key=&sig=s ok") == (
        "see https://u:***@h/x?a=1&token=***&key=&sig=*** ok")
    assert redact_text("host=h password='a b' user=u") == "host=h password=*** user=u"
