"""Named time ranges over the ring, and the one JSON document headless and UI share.

30m, 1h and 6h are read at one-minute resolution; 24h and 7d at one hour (UTC hours);
``all`` is every retained minute. Every range is rolling: it ends at ``until`` (default:
now), includes that minute, and reaches back its whole length, so "1h" is the last sixty
minutes including this one and "24h" the last 1,440. Its first and last hourly buckets
are then partial. (24h used to be 23 whole UTC hours plus the current one, which
disagreed with the Usage screen's rolling day: issue 17.)
"""

from __future__ import annotations

from dataclasses import dataclass

from tokentop.store.chartranges import RANGE_NAMES, RANGES
from tokentop.store.metrics.source import MetricsSource
from tokentop.store.metrics.tools import ToolRow, ToolStat, usage_json
from tokentop.store.ring import MinuteRing, Point
from tokentop.store.timeparse import minute_to_iso


@dataclass(frozen=True)
class Window:
    start: int  # first minute covered
    end: int  # last minute covered
    interval: int  # bucket size in minutes

    @property
    def interval_label(self) -> str:
        return "1h" if self.interval == 60 else "1m"


def window(ring: MinuteRing, name: str, until_minute: int | None) -> Window:
    """The minutes a named range covers: rolling, ending at ``until_minute`` (inclusive)."""
    if name == "all":
        oldest = ring.oldest_minute()
        head = ring.head
        end = until_minute if until_minute is not None else (head if head is not None else 0)
        start = oldest if oldest is not None else end
        return Window(start, end, 1)
    if name not in RANGES:
        raise ValueError(f"unknown range {name!r}: use one of {', '.join(RANGE_NAMES)}")
    length, interval = RANGES[name]
    end = until_minute if until_minute is not None else (ring.head or 0)
    return Window(end - length + 1, end, interval)


def point_json(p: Point, cost: bool = True) -> dict:
    """One bucket; ``cost_usd`` null when no file carries cost (a current gridctl):
    unknown, not zero."""
    return {
        "timestamp": minute_to_iso(p.minute),
        "input_tokens": p.input_tokens,
        "output_tokens": p.output_tokens,
        "total_tokens": p.total_tokens,
        "cost_usd": micro_to_usd(p.cost_micro_usd) if cost else None,
    }


def micro_to_usd(micro: int) -> float:
    return round(micro / 1_000_000, 6)


def tool_rows(tools: dict[str, dict[str, ToolStat]], server: str | None = None) -> list[ToolRow]:
    """Every tool of every server (or of ``server``), most tokens first, then most calls:
    which MCP tools burn the tokens. Cumulative since each server's counters last reset."""
    rows = [ToolRow(owner, name, stat)
            for owner, stats in tools.items() if server is None or owner == server
            for name, stat in stats.items()]
    rows.sort(key=lambda r: (-r.stat.total_tokens, -r.stat.calls, r.owner, r.name))
    return rows


def skill_rows(skills: dict[str, dict[str, ToolStat]], stack: str | None = None) -> list[ToolRow]:
    """Every skill of every stack (or of ``stack``), most served first."""
    rows = [ToolRow(owner, name, stat)
            for owner, stats in skills.items() if stack is None or owner == stack
            for name, stat in stats.items()]
    rows.sort(key=lambda r: (-r.stat.calls, r.owner, r.name))
    return rows


def metrics_document(
    source: MetricsSource,
    range_name: str = "all",
    server: str | None = None,
    until_minute: int | None = None,
) -> dict:
    """The ``tokentop metrics --json`` document: what the Overview shows, as data."""
    ring = source.ring
    win = window(ring, range_name, until_minute)
    servers = [server] if server else ring.servers()
    cost = source.cost_seen()
    per_server = {
        name: [point_json(p, cost)
               for p in ring.buckets(name, win.start, win.end, win.interval)]
        for name in servers
    }
    if server:
        data_points = per_server[server]
    else:
        data_points = [point_json(p, cost)
                       for p in ring.buckets(None, win.start, win.end, win.interval)]
    totals = {}
    snapshot = source.totals_snapshot()
    for name in servers:
        t = snapshot.get(name)
        if t is None:
            totals[name] = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0,
                            "cost_usd": None}
            continue
        totals[name] = {
            "input_tokens": t.tokens.input_tokens,
            "output_tokens": t.tokens.output_tokens,
            "total_tokens": t.tokens.total_tokens,
            "cost_usd": None if t.cost_micro_usd is None else micro_to_usd(t.cost_micro_usd),
        }
    tools: dict[str, dict[str, object]] = {}
    for row in tool_rows(source.tools_snapshot(), server):
        tools.setdefault(row.owner, {})[row.name] = usage_json(row.stat)
    skills: dict[str, dict[str, object]] = {}
    stack = server.split("/", 1)[0] if server else None
    for row in skill_rows(source.skills_snapshot(), stack):
        skills.setdefault(row.owner, {})[row.name] = usage_json(row.stat, tokens=False)
    st = source.state.stats
    oldest = ring.oldest_minute()
    return {
        "range": range_name,
        "interval": win.interval_label,
        "data_points": data_points,
        "per_server": per_server,
        "totals": totals,
        # gridctl's cumulative tool_usage per server (since its counters last reset)
        "tools": tools,
        # prompt_usage of each stack's __skills__ writer: registry skills served
        "skills": skills,
        # any cost_* in the files: gridctl stopped writing them on 2026-08-07 (5245a795)
        "cost_recorded": cost,
        "files": st.files,
        "lines": st.lines,
        "malformed_lines": st.malformed,
        # lines dated more than an hour past the clock: held out of the series until
        # the clock gets there (one box's skewed clock must not evict everyone's history)
        "ahead_of_clock_lines": st.ahead_of_clock,
        # servers whose directory this user may not read (their data is not in here)
        "unreadable_servers": list(getattr(source, "unreadable", [])),
        "unreadable_files": sorted(st.unreadable),
        "blank_lines": st.blank,
        "truncated_gz_files": st.truncated_gz,
        "persisted_from": minute_to_iso(oldest) if oldest is not None else None,
    }
