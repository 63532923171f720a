"""``tokentop metrics --text``: the JSON document as tables a person reads.

Rendered from ``metrics_document``'s dict itself, so the text and ``--json`` never
disagree. Server, tool and skill names come from files gridctl wrote: every one goes
through ``tokentop.tui.format.clean`` so no escape sequence reaches the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence

NO_COST = ("no cost: gridctl stopped writing cost_* on 2026-08-07 (gridctl 5245a795); "
           "tokentop --store PATH shows cost from agent logs")


def _table(header: Sequence[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(header), *(line(r) for r in rows)]


def _n(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else "–"


def _when(iso: object) -> str:
    """``2026-05-05T12:00:07.000000Z`` -> ``2026-05-05 12:00:07``; never -> ``–``."""
    return iso[:19].replace("T", " ") if isinstance(iso, str) else "–"


def render_text(doc: dict) -> str:
    """Totals per server, tools by tokens, skills by calls, and whether cost exists."""
    from tokentop.tui.format import clean

    out = [f"range {doc['range']} · {doc['files']:,} files · {doc['lines']:,} lines · "
           f"{doc['malformed_lines']:,} malformed · persisted from "
           f"{_when(doc['persisted_from'])}{' UTC' if doc['persisted_from'] else ''}"]
    rows = []
    for name, t in doc["totals"].items():
        cost = t["cost_usd"]
        rows.append([clean(name), _n(t["input_tokens"]), _n(t["output_tokens"]),
                     _n(t["total_tokens"]), "–" if cost is None else f"${cost:,.2f}"])
    out += ["", *_table(["SERVER", "INPUT", "OUTPUT", "TOTAL", "COST"], rows, {1, 2, 3, 4})]
    if not doc["cost_recorded"]:
        out.append(NO_COST)
    tools = [[clean(server), clean(tool), _n(s["calls"]), _n(s["input_tokens"]),
              _n(s["output_tokens"]), _n(s["total_tokens"]), _when(s["last_called_at"])]
             for server, by_tool in doc["tools"].items() for tool, s in by_tool.items()]
    tools.sort(key=lambda r: -int(r[5].replace(",", "")))
    out += ["", "tools (cumulative, since each server's last reset)"]
    out += (_table(["SERVER", "TOOL", "CALLS", "INPUT", "OUTPUT", "TOTAL", "LAST CALL (UTC)"],
                   tools, {2, 3, 4, 5}) if tools else ["no tool_usage in these files"])
    skills = [[clean(stack), clean(skill), _n(s["calls"]), _when(s["last_called_at"])]
              for stack, by_skill in doc["skills"].items() for skill, s in by_skill.items()]
    out += ["", "skills (served through prompts/get, cumulative)"]
    out += (_table(["STACK", "SKILL", "CALLS", "LAST USE (UTC)"], skills, {2})
            if skills else ["no __skills__ prompt_usage in these files"])
    return "\n".join(out)
