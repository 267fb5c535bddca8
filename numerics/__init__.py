"""Fast numerical layer: evaluates what ``derivations`` generated (no SymPy at run time)."""
