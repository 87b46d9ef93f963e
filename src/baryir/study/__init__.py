"""Equal-budget studies, a tool built on baryir's public API (not part of the core library).

A study (``configs/study/*.yaml``, run by ``baryir study``) trains every arm (the WB solver
``none``, ``sinkhorn``, ``potentials``, optionally ``restormer-tiny`` and
``baryir-promptir-tiny``) with the same ``baryir fit`` config, steps, seeds and batches,
evaluates each run on in-distribution, out-of-distribution and do-no-harm rows, measures the
mechanism (b and r of the in-distribution inputs), and compares every arm with a reference arm
image by image.

- :mod:`baryir.study.config`: the study file, checked by jsonargparse;
- :mod:`baryir.study.stats`: paired differences and their bootstrap intervals;
- :mod:`baryir.study.mechanism`: per run, do the degradations share b and differ in r?
- :mod:`baryir.study.budget`: the reference arm's first run scored along its training;
- :mod:`baryir.study.runner`: the runs (``baryir fit``, then ``baryir.evaluate``);
- :mod:`baryir.study.report`: tables, plot, and the README from ``README.template.md``.

No module of the library imports this package.
"""
