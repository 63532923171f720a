"""Daily and monthly reports group by the local day in SQL (``store/usage/localtime.py``):
across daylight-saving changes, in :30 and :45 zones, from the rollup and from the
events, every event lands on the day ``astimezone`` gives it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokentop.store.usage import reports
from tokentop.store.usage.db import UsageStore
from tokentop.store.usage.localtime import offset_segments
from tokentop.store.usage.model import IngestRequest

NY = ZoneInfo("America/New_York")


def request(n: int, when: datetime, tokens: int = 1) -> IngestRequest:
    return IngestRequest(
        source_system="codex", source_channel="jsonl", occurred_at=when, turn_id=f"t{n}",
        session_id="s", provider_id="openai", model_raw="gpt-5", input_tokens=tokens,
        output_tokens=0)


def by_day(doc: dict) -> dict[str, int]:
    return {d["date"]: d["inputTokens"] for d in doc["daily"]}


def test_segments_find_each_change_to_the_minute() -> None:
    got = offset_segments(NY, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))
    assert [(t.isoformat(), off) for t, off in got[1:]] == [
        ("2026-03-08T07:00:00+00:00", timedelta(hours=-4)),
        ("2026-11-01T06:00:00+00:00", timedelta(hours=-5))]
    assert got[0][1] == timedelta(hours=-5)
    # Lord Howe moves by 30 minutes; Kathmandu never moves
    howe = offset_segments(ZoneInfo("Australia/Lord_Howe"), datetime(2026, 1, 1, tzinfo=UTC),
                           datetime(2026, 12, 31, tzinfo=UTC))
    assert [off for _, off in howe] == [timedelta(hours=11), timedelta(hours=10, minutes=30),
                                        timedelta(hours=11)]
    assert len(offset_segments(ZoneInfo("Asia/Kathmandu"), datetime(2020, 1, 1, tzinfo=UTC),
                               datetime(2027, 1, 1, tzinfo=UTC))) == 1


@pytest.mark.parametrize("rolled", [True, False])
def test_a_daylight_saving_night_in_new_york(tmp_path: Path, rolled: bool) -> None:
    times = [
        datetime(2026, 3, 8, 4, 30, tzinfo=UTC),   # 23:30 EST, March 7
        datetime(2026, 3, 8, 6, 59, 59, 900000, tzinfo=UTC),  # 01:59:59.9 EST, March 8
        datetime(2026, 3, 8, 7, 0, tzinfo=UTC),    # 03:00 EDT, March 8
        datetime(2026, 3, 9, 3, 30, tzinfo=UTC),   # 23:30 EDT, March 8
        datetime(2026, 3, 9, 4, 30, tzinfo=UTC),   # 00:30 EDT, March 9
    ]
    with UsageStore.open(tmp_path / "u.db") as store:
        store.ingest([request(n, t, 10 ** n) for n, t in enumerate(times)])
        doc = reports.daily(store.conn, reports.ReportOptions(tz=NY), rolled=rolled)
        assert by_day(doc) == {"2026-03-07": 1, "2026-03-08": 1110, "2026-03-09": 10000}
        month = reports.monthly(store.conn, reports.ReportOptions(tz=NY), rolled=rolled)
        assert [(m["month"], m["inputTokens"]) for m in month["monthly"]] == [("2026-03", 11111)]
        since = reports.daily(store.conn, reports.ReportOptions(
            tz=NY, since=reports.parse_day("20260308"), until=reports.parse_day("20260308")),
            rolled=rolled)
        assert by_day(since) == {"2026-03-08": 1110}


ZONES = ["UTC", "America/New_York", "Europe/London", "Asia/Kolkata", "Asia/Kathmandu",
         "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns"]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(zone=st.sampled_from(ZONES),
       offsets=st.lists(st.integers(0, 3 * 365 * 86400), min_size=1, max_size=30))
def test_every_event_lands_on_its_local_day(tmp_path_factory: pytest.TempPathFactory,
                                            zone: str, offsets: list[int]) -> None:
    tz = ZoneInfo(zone)
    start = datetime(2023, 1, 1, tzinfo=UTC)  # + 3 years: before the clock (bounds.py)
    times = [start + timedelta(seconds=s) for s in offsets]
    want = Counter(t.astimezone(tz).strftime("%Y-%m-%d") for t in times)
    with UsageStore.open(tmp_path_factory.mktemp("lt") / "u.db") as store:
        store.ingest([request(n, t) for n, t in enumerate(times)])
        for rolled in ((True, False) if reports._whole_hour_zone(tz) else (False,)):
            doc = reports.daily(store.conn, reports.ReportOptions(tz=tz), rolled=rolled)
            assert by_day(doc) == dict(want), (zone, rolled)
