"""Durations with right-censoring: Kaplan-Meier, Aalen-Johansen cumulative incidence, and
parametric fits by maximum likelihood (exponential, lognormal, gamma; compared by AIC).

scipy (``scipy.stats`` distributions and ``scipy.optimize``) does the numerical work: lighter
than a survival library, and it is all these fits need. Competing risks (why a client left the
IOP and after how long) are fitted jointly as the model draws them: a reason r with share p_r,
then a stay from F_r, so a stay still running at the extract date contributes
sum_r p_r S_r(c) to the likelihood and is never dropped (dropping it would shorten the stays).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FAMILIES = ("exponential", "lognormal", "gamma")
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Fit:
    """A fitted duration distribution: family, mean and sd (in the data's unit) with 95% CIs,
    log-likelihood, AIC, events and censored counts."""

    family: str
    mean: float
    sd: float
    mean_ci: tuple[float, float]
    sd_ci: tuple[float, float]
    loglik: float
    aic: float
    events: int
    censored: int

    def spec(self) -> dict:
        """As a scenario distribution."""
        if self.family == "exponential":
            return {"dist": "exponential", "mean": round(self.mean, 3)}
        # a fit from very few events can collapse its spread to ~0: keep it a distribution
        sd = max(round(self.sd, 3), round(0.01 * self.mean, 3), 0.001)
        return {"dist": self.family, "mean": round(self.mean, 3), "sd": sd}


LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _bounded_exp(x: float) -> float:
    """exp of a log-scale parameter kept within e^-50..e^50: records where every stay is the
    same length drive a spread towards zero, and a zero would end the fit in a domain error."""
    return math.exp(min(max(x, -50.0), 50.0))


def _logpdf_logsf(family: str, params: np.ndarray, t: np.ndarray):
    from scipy import special

    t = np.maximum(t, 1e-9)
    if family == "exponential":
        rate = _bounded_exp(params[0])
        return np.log(rate) - rate * t, -rate * t
    if family == "lognormal":
        mu, sigma = params[0], _bounded_exp(params[1])
        logt = np.log(t)
        z = (logt - mu) / sigma
        return -0.5 * z * z - LOG_SQRT_2PI - math.log(sigma) - logt, special.log_ndtr(-z)
    shape, scale = _bounded_exp(params[0]), _bounded_exp(params[1])
    x = t / scale
    logpdf = (shape - 1) * np.log(x) - x - special.gammaln(shape) - math.log(scale)
    return logpdf, np.log(np.maximum(special.gammaincc(shape, x), 1e-300))


def _moments(family: str, params: np.ndarray) -> tuple[float, float]:
    if family == "exponential":
        mean = 1 / _bounded_exp(params[0])
        return mean, mean
    if family == "lognormal":
        mu, s2 = params[0], min(_bounded_exp(params[1]) ** 2, 50.0)
        mean = _bounded_exp(mu + s2 / 2)
        return mean, mean * math.sqrt(max(math.expm1(s2), 0.0))
    shape, scale = _bounded_exp(params[0]), _bounded_exp(params[1])
    return shape * scale, math.sqrt(shape) * scale


def params_of(fit: Fit) -> np.ndarray:
    """A fit's parameters, as the fitter uses them, from its mean and sd (``_moments``'s inverse)."""
    if fit.family == "exponential":
        return np.array([-math.log(fit.mean)])
    if fit.family == "lognormal":
        s2 = max(math.log1p((fit.sd / fit.mean) ** 2), 1e-12)  # (a collapsed fit: sd ~ 0)
        return np.array([math.log(fit.mean) - s2 / 2, 0.5 * math.log(s2)])
    shape = (fit.mean / max(fit.sd, 1e-6 * fit.mean)) ** 2
    return np.array([math.log(shape), math.log(fit.mean / shape)])


def _start(family: str, t: np.ndarray) -> np.ndarray:
    mean, sd = float(np.mean(t)), float(np.std(t)) or float(np.mean(t)) / 2
    if family == "exponential":
        return np.array([-math.log(mean)])
    if family == "lognormal":
        logs = np.log(np.maximum(t, 1e-9))
        return np.array([logs.mean(), math.log(max(logs.std(), 0.05))])
    shape = max((mean / sd) ** 2, 0.05)
    return np.array([math.log(shape), math.log(mean / shape)])


def _hessian(f, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            e_i, e_j = np.eye(n)[i] * step, np.eye(n)[j] * step
            h[i, j] = h[j, i] = (
                f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j) + f(x - e_i - e_j)
            ) / (4 * step * step)
    return h


def _draws(x: np.ndarray, nll, rng: np.random.Generator, n: int = 2000) -> np.ndarray:
    """Parameter draws from the normal approximation at the maximum (observed information)."""
    try:
        cov = np.linalg.inv(_hessian(nll, x))
        cov = (cov + cov.T) / 2
        if not np.all(np.isfinite(cov)) or np.any(np.linalg.eigvalsh(cov) < 0):
            raise np.linalg.LinAlgError
        return rng.multivariate_normal(x, cov, size=n, method="cholesky")
    except (np.linalg.LinAlgError, ValueError):
        return np.repeat(x[None, :], n, axis=0)


def fit_duration(
    durations, observed, family: str, rng: np.random.Generator | None = None
) -> Fit | None:
    """Maximum-likelihood fit of one family to right-censored durations (``observed`` False:
    still running at the extract date)."""
    from scipy import optimize

    t = np.asarray(durations, dtype=float)
    d = np.asarray(observed, dtype=bool)
    if d.sum() < 2:
        return None

    # durations in days repeat: the likelihood over distinct (duration, observed) pairs with
    # their counts is the same and far cheaper
    pairs, counts = np.unique(np.column_stack([t, d]), axis=0, return_counts=True)
    ut, ud = pairs[:, 0], pairs[:, 1].astype(bool)

    def nll(p):
        logpdf, logsf = _logpdf_logsf(family, p, ut)
        value = -(counts[ud] @ logpdf[ud] + counts[~ud] @ logsf[~ud])
        return value if np.isfinite(value) else 1e300

    best = optimize.minimize(
        nll,
        _start(family, t[d]),
        method="Nelder-Mead",
        options={"maxiter": 4000, "xatol": 1e-7, "fatol": 1e-9},
    )
    draws = _draws(best.x, nll, rng or np.random.default_rng(0))
    aic = 2 * len(best.x) + 2 * float(best.fun)
    return _fit(family, best.x, list(draws), -float(best.fun), aic, int(d.sum()), int((~d).sum()))


def _fit(family, params, drawn, loglik, aic, events, censored) -> Fit:
    """A Fit from the maximum and parameter draws (95% CIs of mean and sd from the draws)."""
    moments = np.array([_moments(family, p) for p in drawn])
    mean, sd = _moments(family, params)
    low, high = np.nanpercentile(moments, [2.5, 97.5], axis=0)
    ci = ((float(low[0]), float(high[0])), (float(low[1]), float(high[1])))
    return Fit(family, mean, sd, ci[0], ci[1], loglik, aic, events, censored)


def best_fit(durations, observed, families=FAMILIES) -> tuple[Fit | None, list[Fit]]:
    """The family with the lowest AIC, and every candidate's fit."""
    fits = [f for f in (fit_duration(durations, observed, fam) for fam in families) if f]
    return (min(fits, key=lambda f: f.aic) if fits else None), fits


def kaplan_meier(durations, observed) -> tuple[np.ndarray, np.ndarray]:
    """Event times and the survival just after each."""
    t = np.asarray(durations, dtype=float)
    d = np.asarray(observed, dtype=bool)
    times = np.unique(t[d])
    at_risk = np.array([(t >= u).sum() for u in times])
    events = np.array([((t == u) & d).sum() for u in times])
    return times, np.cumprod(1 - events / np.maximum(at_risk, 1))


def cumulative_incidence(durations, reasons, labels) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Aalen-Johansen cumulative incidence of each reason (``reasons`` '' when censored)."""
    t = np.asarray(durations, dtype=float)
    r = np.asarray(reasons, dtype=object)
    observed = r != ""
    times = np.unique(t[observed])
    order = np.argsort(t)
    t_sorted, r_sorted = t[order], r[order]
    at_risk = len(t) - np.searchsorted(t_sorted, times, side="left")
    survival, cif = 1.0, {label: [] for label in labels}
    running = dict.fromkeys(labels, 0.0)
    for u, n in zip(times, at_risk, strict=True):
        lo, hi = np.searchsorted(t_sorted, u, "left"), np.searchsorted(t_sorted, u, "right")
        here = r_sorted[lo:hi]
        total = int((here != "").sum())
        for label in labels:
            running[label] += survival * int((here == label).sum()) / n
            cif[label].append(running[label])
        survival *= 1 - total / n
    return times, {k: np.asarray(v) for k, v in cif.items()}


@dataclass(frozen=True)
class CompetingFit:
    """Exit reasons and stays fitted jointly: share of each reason and its stay distribution,
    with 95% CIs, the family (by AIC) and the largest gap between the Aalen-Johansen
    cumulative incidence and the fitted p_r F_r(t) for each reason (goodness of fit)."""

    family: str
    shares: dict[str, float]
    share_ci: dict[str, tuple[float, float]]
    stays: dict[str, Fit]
    aic: dict[str, float]
    max_gap: dict[str, float]
    events: int
    censored: int


def fit_competing(durations, reasons, labels, families=FAMILIES, seed: int = 0) -> CompetingFit:
    """Joint maximum likelihood of the exit mix and the stay by reason, with censoring."""
    from scipy import optimize

    t_all = np.maximum(np.asarray(durations, dtype=float), 1e-6)
    r_all = np.asarray(reasons, dtype=object)
    k = len(labels)
    codes = np.array([labels.index(x) + 1 if x in labels else 0 for x in r_all])
    pairs, counts = np.unique(np.column_stack([t_all, codes]), axis=0, return_counts=True)
    t, code = pairs[:, 0], pairs[:, 1].astype(int)  # distinct (duration, reason) with counts
    which = [code == i + 1 for i in range(k)]
    censored = code == 0
    rng = np.random.default_rng(seed)
    results = {}
    for family in families:
        width = 1 if family == "exponential" else 2

        def unpack(p, width=width):
            logits = np.concatenate([[0.0], p[: k - 1]])
            shares = np.exp(logits - logits.max())
            shares /= shares.sum()
            return shares, [p[k - 1 + i * width : k - 1 + (i + 1) * width] for i in range(k)]

        def nll(p, family=family, unpack=unpack):
            shares, params = unpack(p)
            total = 0.0
            mix = np.zeros(int(censored.sum()))
            for i in range(k):
                logpdf, logsf = _logpdf_logsf(family, params[i], t)
                w = counts[which[i]]
                total += w.sum() * math.log(max(shares[i], 1e-300)) + w @ logpdf[which[i]]
                mix += shares[i] * np.exp(logsf[censored])
            total += counts[censored] @ np.log(np.maximum(mix, 1e-300))
            return -total if np.isfinite(total) else 1e300

        n_of = np.array([counts[w].sum() for w in which], dtype=float) + 0.5
        start = [np.log(n_of[1:] / n_of[0])]
        for i in range(k):
            own = np.repeat(t[which[i]], counts[which[i]]) if which[i].sum() >= 2 else t_all
            start.append(_start(family, own))
        x0 = np.concatenate(start)
        best = optimize.minimize(nll, x0, method="L-BFGS-B")
        best = optimize.minimize(
            nll,
            best.x,
            method="Nelder-Mead",
            options={"maxiter": 4000, "xatol": 1e-5, "fatol": 1e-6},
        )
        results[family] = (best, nll, unpack)
    aic = {f: 2 * len(b.x) + 2 * b.fun for f, (b, _, _) in results.items()}
    family = min(aic, key=aic.get)
    best, nll, unpack = results[family]
    draws = _draws(best.x, nll, rng)
    shares, params = unpack(best.x)
    drawn = [unpack(p) for p in draws]
    share_draws = np.array([s for s, _ in drawn])
    stays = {}
    for i, label in enumerate(labels):
        stays[label] = _fit(
            family,
            params[i],
            [ps[i] for _, ps in drawn],
            -float(best.fun),
            float(aic[family]),
            int(counts[which[i]].sum()),
            int(counts[censored].sum()),
        )
    times, cif = cumulative_incidence(t_all, r_all, labels)
    gaps = {}
    for i, label in enumerate(labels):
        if len(times) == 0:
            gaps[label] = math.nan
            continue
        logpdf, logsf = _logpdf_logsf(family, params[i], times)
        gaps[label] = float(np.max(np.abs(cif[label] - shares[i] * (1 - np.exp(logsf)))))
    return CompetingFit(
        family,
        {label: float(shares[i]) for i, label in enumerate(labels)},
        {
            label: tuple(float(v) for v in np.percentile(share_draws[:, i], [2.5, 97.5]))
            for i, label in enumerate(labels)
        },
        stays,
        {f: float(a) for f, a in aic.items()},
        gaps,
        int(counts[~censored].sum()),
        int(counts[censored].sum()),
    )


def wilson(successes: int, n: int) -> tuple[float, float, float]:
    """A share with its 95% Wilson interval."""
    if n == 0:
        return math.nan, math.nan, math.nan
    p = successes / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return p, max(centre - half, 0.0), min(centre + half, 1.0)
