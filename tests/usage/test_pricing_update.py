"""``tokentop pricing update`` against a real HTTP server on 127.0.0.1 and a file.

The good table is a real excerpt of LiteLLM's table: tests/fixtures/pricing/
litellm_1.104.0_subset.json holds 82 rows of ``model_prices_and_context_window_backup.json``
from the litellm 1.104.0 wheel on PyPI, unchanged.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tokentop.store.pricing import PriceTable, updated_path
from tokentop.tui.commands.pricing import pricing

GOOD = Path(__file__).resolve().parents[1] / "fixtures" / "pricing" / "litellm_1.104.0_subset.json"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    good = GOOD.read_bytes()
    few = json.dumps({k: v for k, v in list(json.loads(good).items())[:5]}).encode()
    bodies = {"/good.json": good, "/garbage.json": b"{not json", "/few.json": few,
              "/list.json": b"[1, 2, 3]"}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bodies.get(self.path)
            self.send_response(404 if body is None else 200)
            self.end_headers()
            self.wfile.write(body or b"not found")

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def run(*args: str):
    return CliRunner().invoke(pricing, ["update", *args])


def test_update_from_url_stores_table_and_it_is_in_force(server: str) -> None:
    out = run("--from", f"{server}/good.json")
    assert out.exit_code == 0, out.output
    path = updated_path()
    doc = json.loads(path.read_text())
    assert doc["fetched_from"] == f"{server}/good.json"
    table = PriceTable.load()
    assert table.origin == "updated" and table.path == path
    assert len(table.prices) < 200  # the small fetched table, not the bundled one
    opus5 = table.lookup("claude-opus-5")
    assert opus5 is not None and opus5.input == pytest.approx(5.0)
    assert opus5.fast_multiplier == 2.0
    shown = CliRunner().invoke(pricing, [])
    assert "table: updated" in shown.output and f"{server}/good.json" in shown.output


@pytest.mark.parametrize(("path", "why"), [("/missing.json", "HTTP 404"),
                                           ("/garbage.json", "not JSON"),
                                           ("/few.json", "only"),
                                           ("/list.json", "not a JSON object")])
def test_failed_update_changes_nothing_and_says_why_in_one_line(server: str, path: str,
                                                                why: str) -> None:
    assert run("--from", f"{server}/good.json").exit_code == 0
    before = updated_path().read_bytes()
    out = run("--from", f"{server}{path}")
    assert out.exit_code == 1
    assert why in out.output and out.output.count("\n") == 1
    assert "unchanged" in out.output
    assert updated_path().read_bytes() == before
    assert [p.name for p in updated_path().parent.iterdir()] == ["pricing.json"]  # no temp


def test_failed_first_update_leaves_bundled_table(server: str) -> None:
    out = run("--from", f"{server}/garbage.json")
    assert out.exit_code == 1
    assert not updated_path().exists()
    assert PriceTable.load().origin == "bundled"


def test_unreachable_server_is_one_line() -> None:
    out = run("--from", "http://127.0.0.1:9/x.json")  # discard port: nothing listens
    assert out.exit_code == 1 and out.output.count("\n") == 1


def test_update_from_file(tmp_path: Path) -> None:
    out = run("--from", str(GOOD))
    assert out.exit_code == 0, out.output
    assert PriceTable.load().origin == "updated"
    missing = run("--from", str(tmp_path / "nope.json"))
    assert missing.exit_code == 1 and "nope.json" in missing.output


def test_corrupt_stored_table_falls_back_to_bundled(capsys: pytest.CaptureFixture[str]) -> None:
    path = updated_path()
    path.parent.mkdir(parents=True)
    path.write_text("{broken")
    table = PriceTable.load()
    assert table.origin == "bundled"
    assert str(path) in capsys.readouterr().err
