"""Queueing formulas the model must reproduce in its degenerate configurations."""

from __future__ import annotations

import math


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability an arrival waits in an M/M/c queue (Erlang C); offered load a = lambda/mu."""
    c, a = servers, offered_load
    if a >= c:
        return 1.0
    term = 1.0
    total = 1.0  # sum_{k<c} a^k / k!
    for k in range(1, c):
        term *= a / k
        total += term
    last = term * a / c  # a^c / c!
    top = last * c / (c - a)
    return top / (total + top)


def mmc(arrival_rate: float, service_rate: float, servers: int) -> dict[str, float]:
    """Steady-state M/M/c measures: P(wait), mean wait Wq, mean queue Lq, mean in service."""
    a = arrival_rate / service_rate
    p_wait = erlang_c(servers, a)
    wq = p_wait / (servers * service_rate - arrival_rate)
    return {"p_wait": p_wait, "wq": wq, "lq": arrival_rate * wq, "in_service": a}


def mm1(arrival_rate: float, service_rate: float) -> dict[str, float]:
    return mmc(arrival_rate, service_rate, 1)


def seats_needed(arrival_rate: float, service_rate: float, max_mean_wait: float) -> int:
    """The fewest servers whose M/M/c mean wait is at most ``max_mean_wait``."""
    c = max(1, math.floor(arrival_rate / service_rate) + 1)
    while mmc(arrival_rate, service_rate, c)["wq"] > max_mean_wait:
        c += 1
    return c


def erlang_a(
    arrival_rate: float, service_rate: float, patience_rate: float, servers: int = 1
) -> dict[str, float]:
    """M/M/c+M (Erlang A): the birth-death solution with births lambda and deaths
    min(n, c) mu + max(n - c, 0) theta with n in the system. Mean number waiting, share who
    give up (theta x Lq / lambda), the share of time a server is busy and the mean number
    in service."""
    p = [1.0]
    for n in range(1, 5000):
        p.append(
            p[-1]
            * arrival_rate
            / (min(n, servers) * service_rate + max(n - servers, 0) * patience_rate)
        )
        if p[-1] < 1e-16 * sum(p):
            break
    probs = [x / sum(p) for x in p]
    lq = sum(max(n - servers, 0) * x for n, x in enumerate(probs))
    in_service = sum(min(n, servers) * x for n, x in enumerate(probs))
    return {
        "lq": lq,
        "p_abandon": patience_rate * lq / arrival_rate,
        "busy": in_service / servers,
        "in_service": in_service,
    }
