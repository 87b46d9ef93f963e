"""Evaluation: one loop over test sets (runner), suites from YAML, reports, embedding views.

Submodules import lazily what they need; import from them directly, e.g.
``from baryir.evaluation.runner import evaluate``.
"""
