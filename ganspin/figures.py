"""Registry of the paper's figures: ``ganspin figure N`` and ``reproduce`` look them up here.

Each entry maps the figure's name (the paper's number, or e.g. ``"8t"`` for the theory
curves of Figure 8) to ``"module:function"``; the function has the signature
``make(out_dir: pathlib.Path, quick: bool = True, constants: str = "derived") -> list[Path]``
and writes PNG and PDF files named ``figure_<name>.png`` / ``.pdf``.
"""

FIGURES: dict[str, str] = {}
