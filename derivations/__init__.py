"""Symbolic truth: SymPy derivations of the model's covariances, Hessian law, Kac-Rice
constant, quartic and index terms, and the code generator that writes ``generated/``."""
