"""The report of an equal-budget study, written from the results ``baryir study`` saved.

Not part of the installed package: ``baryir study`` (:mod:`baryir.study`) trains, scores and
writes the results (:mod:`baryir.study.results`); ``python studies/write_report.py --config
STUDY.yaml`` reads them back (:mod:`report.results`) and writes the Markdown page, the README
and the pictures beside them (:mod:`report.writeup`), with the tables of :mod:`report.tables`,
the sentences of :mod:`report.prose` (the budget's in :mod:`report.budget_checks`) and the
pictures of :mod:`report.plots`. It imports only the library's public names.
"""
