"""Evaluation: the one loop over test sets (runner), scores (scorer), reports, embedding views.

What to evaluate is a suite (:mod:`baryir.data.suites`). Submodules import lazily what they
need; import from them directly, e.g. ``from baryir.evaluation.runner import evaluate``.
"""
