"""Erlang C staffing: how many agents keep a queue of tickets within a service-level target.

The model (M/M/N, no abandonment) assumes Poisson arrivals and exponential handle times; because
it ignores customers who give up, it errs on the side of more staff. Formulas as in
https://reference.wolfram.com/language/ref/ErlangC.html.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

SECONDS_PER_MINUTE = 60.0
MINUTES_PER_HOUR = 60.0
SHARE_TOLERANCE = 1e-6  # profile shares may carry rounding, e.g. three blocks of 0.3333


@dataclass(frozen=True)
class Staffing:
    agents: int
    load: float            # offered load A in Erlangs
    service_level: float   # share answered within the target time
    asa: float             # average speed of answer, seconds
    occupancy: float       # A / agents


@dataclass(frozen=True)
class BlockStaffing:
    block: str
    arrivals_per_hour: float
    staffing: Staffing


def erlang_c(agents: int, load: float) -> float:
    """Probability that an arrival has to wait, for `agents` servers and offered load `load` (Erlangs).

    Returns 1.0 when the queue is unstable (agents <= load) and 0.0 for no load.
    """
    _check_agents(agents)
    _check_non_negative("load", load)
    if agents <= load:
        return 1.0
    if load == 0:
        return 0.0
    # Erlang B recursion: every term stays in [0, 1], so hundreds of agents neither overflow
    # nor lose precision the way A**N / N! does.
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = load * blocking / (n + load * blocking)
    return agents * blocking / (agents - load * (1.0 - blocking))


def service_level(agents: int, load: float, aht: float, target_time: float) -> float:
    """Share of arrivals answered within `target_time` (same unit as `aht`); 0 when agents <= load."""
    _check_positive("aht", aht)
    _check_non_negative("target_time", target_time)
    wait = erlang_c(agents, load)
    if agents <= load:
        return 0.0
    return 1.0 - wait * math.exp(-(agents - load) * target_time / aht)


def average_speed_of_answer(agents: int, load: float, aht: float) -> float:
    """Mean wait before an answer, in the unit of `aht`; infinite when agents <= load."""
    _check_positive("aht", aht)
    wait = erlang_c(agents, load)
    if agents <= load:
        return math.inf
    return wait * aht / (agents - load)


def agents_needed(arrivals_per_hour: float, aht_minutes: float, target_sl: float, target_seconds: float,
                  max_occupancy: float = 1.0) -> Staffing:
    """The fewest agents that answer `target_sl` of arrivals within `target_seconds`.

    Also keeps occupancy (load / agents) at or under `max_occupancy`. No arrivals need no agents.

    Raises:
        ValueError: on a negative or non-finite rate, a non-positive handle time, `target_sl` outside
            (0, 1), a negative target time or `max_occupancy` outside (0, 1].
    """
    _check_non_negative("arrivals_per_hour", arrivals_per_hour)
    _check_positive("aht_minutes", aht_minutes)
    _check_non_negative("target_seconds", target_seconds)
    if not 0 < target_sl < 1:
        raise ValueError(f"target_sl must be in (0, 1), got {target_sl}")
    if not 0 < max_occupancy <= 1:
        raise ValueError(f"max_occupancy must be in (0, 1], got {max_occupancy}")
    if arrivals_per_hour == 0:
        return Staffing(agents=0, load=0.0, service_level=1.0, asa=0.0, occupancy=0.0)
    load = arrivals_per_hour * aht_minutes / MINUTES_PER_HOUR
    aht_seconds = aht_minutes * SECONDS_PER_MINUTE
    # Start one below the float-rounded occupancy bound; the loop applies the exact test.
    agents = max(math.floor(load) + 1, math.ceil(load / max_occupancy) - 1)
    while (load / agents > max_occupancy
           or service_level(agents, load, aht_seconds, target_seconds) < target_sl):
        agents += 1
    return Staffing(agents=agents, load=load,
                    service_level=service_level(agents, load, aht_seconds, target_seconds),
                    asa=average_speed_of_answer(agents, load, aht_seconds),
                    occupancy=load / agents)


def staff_blocks(weekly_tickets: float, profile: Mapping[str, float], aht_minutes: float, target_sl: float,
                 target_seconds: float, hours_per_block: Mapping[str, float], *,
                 max_occupancy: float = 1.0) -> list[BlockStaffing]:
    """Agents per time block for a week's ticket forecast, in the order of `profile`.

    Args:
        weekly_tickets: tickets expected in the week.
        profile: share of the week's tickets arriving in each block, e.g. {"Mon-Fri 08-12": 0.35, ...};
            the shares must sum to 1.
        aht_minutes: handle time per ticket.
        target_sl: share to answer within `target_seconds`.
        target_seconds: the answer-time target.
        hours_per_block: hours each block spans in a week (Mon-Fri 08-12 is 20); blocks not in
            `profile` are ignored.
        max_occupancy: passed to `agents_needed`.

    Raises:
        ValueError: on negative tickets, an empty profile, negative shares, shares that do not sum to 1,
            or a block without positive hours, and on anything `agents_needed` rejects.
    """
    _check_non_negative("weekly_tickets", weekly_tickets)
    if not profile:
        raise ValueError("profile is empty: give at least one block and its share of the week")
    for block, share in profile.items():
        _check_non_negative(f"share of {block!r}", share)
    total = math.fsum(profile.values())
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ValueError(f"profile shares must sum to 1, got {total:.6g}")
    missing = [block for block in profile if block not in hours_per_block]
    if missing:
        raise ValueError(f"hours_per_block has no hours for {', '.join(map(repr, missing))}")
    result = []
    for block, share in profile.items():
        hours = hours_per_block[block]
        _check_positive(f"hours of {block!r}", hours)
        rate = weekly_tickets * share / hours
        result.append(BlockStaffing(block=block, arrivals_per_hour=rate,
                                    staffing=agents_needed(rate, aht_minutes, target_sl, target_seconds,
                                                           max_occupancy)))
    return result


def _check_agents(agents: int) -> None:
    if isinstance(agents, bool) or not isinstance(agents, numbers.Integral):
        raise ValueError(f"agents must be an integer, got {agents!r}")
    if agents < 0:
        raise ValueError(f"agents must be >= 0, got {agents}")


def _check_non_negative(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")


def _check_positive(name: str, value: float) -> None:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
