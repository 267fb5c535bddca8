"""Registry of the paper's figures: ``ganspin figure N`` and ``reproduce`` look them up here.

Each entry maps the figure's name (the paper's number, or e.g. ``"8t"`` for the theory
curves of Figure 8) to ``"module:function"``; the function has the signature
``make(out_dir: pathlib.Path, quick: bool = True, constants: str = "derived") -> list[Path]``
and writes PNG and PDF files named ``figure_<name>.png`` / ``.pdf``.
"""

FIGURES: dict[str, str] = {
    "1": "ganspin.figs_spectrum:figure_1",
    "4": "ganspin.figs_spectrum:figure_4",
    "2": "ganspin.figs_complexity:figure_2",
    "3": "ganspin.figs_complexity:figure_3",
    "5": "ganspin.figs_complexity:figure_5",
    "6": "ganspin.figs_complexity:figure_6",
    "7": "ganspin.figs_complexity:figure_7",
    "8": "ganspin.figs_gan:figure_8",
    "9": "ganspin.figs_gan:figure_9",
    "8t": "ganspin.figs_sweeps:figure_8t",
    "9t": "ganspin.figs_sweeps:figure_9t",
    "kac-rice": "ganspin.verification:figure",
}
