"""Equal-budget studies, a tool built on baryir's public API (not part of the core library).

A study (``configs/study/*.yaml``, run by ``baryir study``) trains every arm (the WB solver
``none``, ``sinkhorn``, ``potentials``, optionally ``restormer-tiny`` and
``baryir-promptir-tiny``) with the same ``baryir fit`` config, steps, seeds and batches,
evaluates each run on in-distribution, out-of-distribution and do-no-harm rows, measures the
mechanism (b and r of the in-distribution inputs), compares every arm with a reference arm
image by image, and writes the results. Its report (Markdown, README, pictures) is written from
those files by ``python studies/write_report.py`` (outside the package).

- :mod:`baryir.study.config`: the study file, checked by jsonargparse;
- :mod:`baryir.study.orchestration`: :func:`~baryir.study.orchestration.run_study`, the steps in
  order;
- :mod:`baryir.study.training`: each run's ``baryir fit`` config, and its training (in this
  process or side by side);
- :mod:`baryir.study.run_callback`: the Lightning callback of every run (same batches in every
  arm);
- :mod:`baryir.study.scoring`: the rows, and a run's per-image scores on them
  (``baryir.evaluate``);
- :mod:`baryir.study.cache`: the JSON records that let a restarted study reuse its runs;
- :mod:`baryir.study.mechanism`: per run, do the degradations share b and differ in r?
- :mod:`baryir.study.budget`: the reference arm's first run scored along its training;
- :mod:`baryir.study.dose`: the alignment's share of the gradient, and what it did;
- :mod:`baryir.study.stats`: paired differences and their bootstrap intervals;
- :mod:`baryir.study.meta`: how the study was made (revision and machine from
  :mod:`baryir.provenance`);
- :mod:`baryir.study.results`: the result files (CSV tables, ``<name>-meta.json``, embeddings,
  shares).

No module of the library imports this package, and this package imports only the library's
public names.
"""
