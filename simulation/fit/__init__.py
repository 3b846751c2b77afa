"""Estimators: fitted values of a scenario from a clinic's episode extract, each with its
evidence (sample size, estimate, 95% CI, method)."""
