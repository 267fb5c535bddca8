"""The derivation modules that ``ganspin derive`` renders, in report order."""

MODULES: list[str] = [
    "derivations.covariance",
    "derivations.hessian",
    "derivations.constant",
    "derivations.index",
    "derivations.published",
    "derivations.quartic",
]
