"""What the demo's servers do: tool calls whose rate follows a work day, with bursts.

One model serves both the history (one draw per minute, like gridctl's 60 s flusher)
and the live writer (one line per second): a server makes tool calls at a rate that
follows the fleet's working day and jumps during bursts (a CI run, an agent looping on a
repository), and every call costs tokens drawn from a skewed distribution. Drawing
both from the same rates keeps the live minutes looking like the history before them.

The fleet's clock is placed so that "now" is mid-afternoon wherever and whenever the
demo runs: a demo opened at 3 a.m. should still be moving, and its last hours busy.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from tokentop.tui.demo.gridctl import Cost, Tokens


@dataclass(frozen=True)
class Price:
    """Micro-USD per token (USD per million tokens, numerically)."""

    input: float
    output: float
    cache_read: float = 0.0
    cache_write: float = 0.0


SONNET = Price(3.0, 15.0, 0.3, 3.75)
HAIKU = Price(0.8, 4.0, 0.08, 1.0)
OPUS = Price(15.0, 75.0, 1.5, 18.75)
GPT = Price(2.5, 10.0, 1.25)


@dataclass(frozen=True)
class Profile:
    """How one demo server behaves."""

    stack: str
    server: str
    calls_per_minute: float  # at the peak of the working day
    input_per_call: float  # mean tokens
    output_per_call: float
    price: Price | None  # None: an old gridctl that never persisted cost
    night: float = 0.08  # share of the peak rate left at night
    burst_per_hour: float = 0.3
    cache_share: float = 0.0  # share of input tokens served from the prompt cache
    live: bool = True  # keeps writing once the demo runs
    stopped_minutes_ago: int | None = None  # history ends this long before now
    extra_keys: bool = False  # writes a newer gridctl's per-tool ``tool_usage``
    quiet: bool = False  # live: only a line when a call happens, not every second

    @property
    def name(self) -> str:
        return f"{self.stack}/{self.server}"


# The MCP tools each demo server offers, busiest first (tool_calls weights them so).
TOOLS: dict[str, tuple[str, ...]] = {
    "github": ("search_code", "get_file_contents", "list_pull_requests", "create_issue",
               "get_pull_request_diff"),
    "filesystem": ("read_file", "list_directory", "search_files", "write_file"),
    "postgres": ("query", "describe_table", "list_tables"),
    "browser": ("navigate", "snapshot", "click", "screenshot"),
    "slack": ("post_message", "list_channels"),
    "linear": ("list_issues", "create_issue", "update_issue"),
}


PROFILES: tuple[Profile, ...] = (
    Profile("prod", "github", 14, 900, 350, SONNET, burst_per_hour=0.5, cache_share=0.4,
            extra_keys=True),
    Profile("prod", "filesystem", 9, 220, 1800, SONNET, cache_share=0.2, extra_keys=True),
    Profile("prod", "postgres", 4, 320, 1100, HAIKU, burst_per_hour=0.25),
    Profile("prod", "browser", 2.5, 450, 5200, SONNET, burst_per_hour=0.2, night=0.0),
    Profile("prod", "slack", 0.15, 300, 120, HAIKU, burst_per_hour=0.05, night=0.0,
            quiet=True),
    Profile("prod", "linear", 0.9, 400, 600, GPT, night=0.02),
    Profile("staging", "github", 2.0, 700, 300, SONNET, night=0.0, burst_per_hour=0.15),
    Profile("staging", "filesystem", 3.0, 200, 1500, None, night=0.05),
    Profile("staging", "browser", 1.2, 400, 4000, OPUS, live=False, stopped_minutes_ago=170),
)


def rhythm(local_hour: float, night: float) -> float:
    """Share of the peak rate at a local hour: quiet nights, a long working day."""
    if 8.0 <= local_hour < 20.0:
        day = math.sin(math.pi * (local_hour - 8.0) / 12.0) ** 0.7
        lunch = 1.0 - 0.35 * math.exp(-(((local_hour - 12.75) / 0.6) ** 2))
        return night + (1.0 - night) * day * lunch
    return night


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw: exact for small rates, normal approximation for large ones."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


@dataclass
class Activity:
    """The call process of one server, stepped forward in time (never backwards)."""

    profile: Profile
    rng: random.Random
    tz_offset_s: int = 0  # fleet time = UTC + this, for the daily rhythm
    bursts: list[tuple[int, int, float]] = field(default_factory=list)  # start, end, gain
    tool_rng: random.Random | None = None  # per-tool splits (tool_calls), seeded by name
    _minute: int | None = None

    def _step_to(self, minute: int) -> None:
        """Start the bursts of every minute up to ``minute`` (once each)."""
        if self._minute is None:
            self._minute = minute - 1
        p = self.profile.burst_per_hour / 60.0
        while self._minute < minute:
            self._minute += 1
            if self.rng.random() < p:
                length = self.rng.randint(4, 25)
                gain = self.rng.uniform(2.5, 8.0)
                self.bursts.append((self._minute, self._minute + length, gain))
        self.bursts = [b for b in self.bursts if b[1] >= minute]

    def rate(self, t: float) -> float:
        """Calls per minute at unix time ``t``."""
        minute = int(t // 60)
        self._step_to(minute)
        hour = ((t + self.tz_offset_s) % 86400) / 3600.0
        gain = 1.0
        for start, end, g in self.bursts:
            if start <= minute <= end:
                # A burst ramps up fast and tails off.
                gain = max(gain, 1.0 + (g - 1.0) * (1.0 - (minute - start) / (end - start + 1)))
        return self.profile.calls_per_minute * rhythm(hour, self.profile.night) * gain

    def draw(self, t: float, seconds: float) -> tuple[Tokens, Cost | None]:
        """Tokens (and cost) of the calls made during ``seconds`` ending at ``t``."""
        calls = poisson(self.rng, self.rate(t) * seconds / 60.0)
        if not calls:
            return Tokens(), None
        prof = self.profile
        inp = out = 0
        for _ in range(min(calls, 25)):
            inp += int(self.rng.lognormvariate(math.log(prof.input_per_call) - 0.32, 0.8))
            out += int(self.rng.lognormvariate(math.log(prof.output_per_call) - 0.5, 1.0))
        if calls > 25:  # a busy minute: scale the sample instead of drawing every call
            inp, out = inp * calls // 25, out * calls // 25
        tokens = Tokens(inp, out)
        return tokens, self.cost(tokens)

    def draw_live(self, t: float, seconds: float) -> tuple[Tokens, Cost | None]:
        """One live second: the expected tokens of the calls in flight, with noise.

        Per-second Poisson draws would leave most seconds empty (a busy server makes a
        call every few seconds), and the demo must move every second; the expected
        value keeps the same per-minute totals. Quiet servers still draw whole calls.
        """
        if self.profile.quiet:
            return self.draw(t, seconds)
        calls = self.rate(t) * seconds / 60.0
        if calls <= 0:
            return Tokens(), None
        prof = self.profile
        inp = int(calls * prof.input_per_call * self.rng.lognormvariate(-0.125, 0.5)) + 1
        out = int(calls * prof.output_per_call * self.rng.lognormvariate(-0.125, 0.5)) + 1
        tokens = Tokens(inp, out)
        return tokens, self.cost(tokens)

    def cost(self, tokens: Tokens) -> Cost | None:
        """What those tokens cost at this server's model price, in whole micro-USD."""
        price = self.profile.price
        if price is None:
            return None
        cached = int(tokens.input * self.profile.cache_share * self.rng.uniform(0.6, 1.0))
        fresh = tokens.input - cached
        written = cached // 6 if price.cache_write else 0
        return Cost(
            input=round(fresh * price.input),
            output=round(tokens.output * price.output),
            cache_read=round(cached * price.cache_read),
            cache_write=round(written * price.cache_write),
        )

    def tool_calls(self, tokens: Tokens) -> dict[str, tuple[int, int, int]]:
        """This flush's calls per tool as ``(calls, input, output)``, splitting ``tokens``
        the way gridctl's observer attributes them (``RecordToolCallUsage``): each call's
        tokens go to its own tool. A separate generator, so the token stream is the same
        whether or not a server reports per-tool usage."""
        rng = self._tool_rng
        names = TOOLS.get(self.profile.server, ("call",))
        weights = [1.0 / (i + 1) for i in range(len(names))]  # a few tools do most work
        picked = rng.choices(names, weights, k=1 if tokens.total < 1500 else 2)
        split: dict[str, tuple[int, int, int]] = {}
        left_in, left_out = tokens.input, tokens.output
        for i, name in enumerate(picked):
            last = i == len(picked) - 1
            share = 1.0 if last else 0.3 + 0.4 * rng.random()
            inp = left_in if last else int(left_in * share)
            out = left_out if last else int(left_out * share)
            left_in -= inp
            left_out -= out
            c, a, b = split.get(name, (0, 0, 0))
            split[name] = (c + 1, a + inp, b + out)
        return split

    @property
    def _tool_rng(self) -> random.Random:
        if self.tool_rng is None:
            self.tool_rng = random.Random(f"{self.profile.name}:tools")
        return self.tool_rng
