"""The derivation modules that ``ganspin derive`` renders, in report order."""

MODULES: list[str] = [
    "derivations.quartic",
]
