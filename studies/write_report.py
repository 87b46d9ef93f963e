"""Write a study's report (Markdown, README, pictures) from the results ``baryir study`` saved.

    baryir study --config configs/study/dose-response-cpu.yaml
    python studies/write_report.py --config configs/study/dose-response-cpu.yaml

``--results`` names the results folder (default: the study's ``output``); the report is written
into it. A published round is regenerated the same way, e.g. ``--results docs/results/round4``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report.results import read_results  # noqa: E402
from report.writeup import write_report  # noqa: E402

from baryir.study.config import load_study_config  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Read the study file and its results, write the report; prints the written files."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, required=True, help="the study YAML file")
    parser.add_argument("--results", type=Path, help="results folder (default: study output)")
    args = parser.parse_args(argv)
    config = load_study_config(args.config)
    folder = args.results if args.results is not None else Path(config.output)
    results = read_results(folder, config.name)
    # the arms, seeds and steps that ran (baryir study --arms/--seeds/--steps narrow the file's)
    ran = {(t.arm, t.seed) for t in results.timings}
    config = config.with_overrides(
        arms=tuple(a for a in config.arms if any(a == arm for arm, _ in ran)) or None,
        seeds=tuple(s for s in config.seeds if any(s == seed for _, seed in ran)) or None,
        steps=max((t.steps for t in results.timings), default=None),
    )
    files = write_report(config, results)
    print(f"wrote {', '.join(str(path) for path in files.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
