"""The text form of ``tokentop access SOURCE --text``: GetSummary's numbers, then tokentop's.

Built from the same ``AccessSnapshot`` as the JSON and the screen. Paths, messages,
session ids and source URIs are the server's or the log's text: each passes through
``tokentop.tui.format.clean`` (control characters made visible) before it is printed.
"""

from __future__ import annotations

from tokentop.store.access import AccessSnapshot, Group
from tokentop.tui.format import clean, count, tokens


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} ms"


def _groups(title: str, groups: tuple[Group, ...], *, with_tokens: bool) -> list[str]:
    if not groups:
        return [f"{title}: none"]
    lines = [f"{title}:"]
    for g in groups:
        row = f"  {clean(g.name):<20} {count(g.reads):>8} reads"
        if with_tokens:
            row += (f"  {tokens(g.original_tokens):>7} original"
                    f"  {tokens(g.compressed_tokens):>7} compressed")
        lines.append(row)
    return lines


def report_lines(source: str, snap: AccessSnapshot, malformed: int) -> list[str]:
    ratio = snap.ratio
    share = snap.cache_served_share
    lines = [
        f"airstore access log: {clean(source)}",
        f"reads {count(snap.reads)} · backend {count(snap.backend_reads)} · cache-served "
        f"{count(snap.cache_served_reads)}" + ("" if share is None else f" ({share:.0%})"),
        f"tokens: original {tokens(snap.original_tokens)} · compressed "
        f"{tokens(snap.compressed_tokens)} · ratio "
        + ("—" if ratio is None else f"{ratio:.3f}"),
        f"tokentop: delivered {tokens(snap.delivered_tokens)} · saved "
        f"{tokens(snap.tokens_saved)} (failed reads count as delivered whole)",
    ]
    for t in snap.timings:
        lines.append(f"{t.name.removesuffix('_ms')}: {count(t.count)} reads timed · mean "
                     f"{_ms(t.mean)} · max {_ms(t.max if t.count else None)}")
    lines += _groups("by outcome", snap.by_outcome, with_tokens=False)
    lines += _groups("by integration", snap.by_integration, with_tokens=True)
    lines += _groups("by cache source", snap.by_cache_source, with_tokens=False)
    lines += _groups("by strategy", snap.by_strategy, with_tokens=False)
    lines += _groups("by origin (mount = FUSE collector)", snap.by_origin, with_tokens=True)
    lines += _groups("sessions", snap.sessions, with_tokens=True)
    lines.append(f"errors: {count(snap.failed_reads)} failed reads" + (":" if snap.errors else ""))
    for e in snap.errors:
        lines.append(f"  {count(e.count):>6} {clean(e.outcome):<8} "
                     f"{clean(e.message) or '(no message)'}")
    lines.append(f"top paths by original tokens ({count(snap.paths)} paths):")
    for p in snap.top_paths:
        uri = f"  [{clean(p.source_uri)}]" if p.source_uri else ""
        lines.append(f"  {tokens(p.total_tokens):>7} {count(p.events):>6} reads  "
                     f"{clean(p.path)}{uri}")
    if snap.duplicates:
        lines.append(f"duplicates skipped (same event_id): {count(snap.duplicates)}")
    if malformed:
        lines.append(f"malformed records skipped: {count(malformed)}")
    return lines
