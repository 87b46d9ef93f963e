"""The one language for "what to evaluate" (and which folder to train on), parsed here only.

Every string that names rows to score or data to read goes through this module: the data
module's ``val_sets``/``test_sets`` and ``folders``, ``baryir test``, ``baryir suite
--config``, ``baryir compare --sets``, a suite file's ``include``, ``clean_sets``,
``degradations`` and ``sets``, and the study configs. The grammar::

    row         := suite | set
    suite       := "suite:" (NAME | PATH)      a suite: every row of it, with its seed,
                 | PATH ending in .yaml/.yml   labels and protocol
    set         := NAME [SLICE] [":" ARG]      a named test set (CBSD68, Rain100H, CDD11, ...)
                 | [DEGRADATION "@"] PATH [SLICE]
                                               a folder: its pairs, or its clean images
                                               under DEGRADATION
    ARG         := DEGRADATION                 on a clean set: CBSD68:25, Kodak24:jpeg:20
                 | KIND                        on CDD11: CDD11:low_haze_rain, CDD11:all
                 | "suite:" (NAME | PATH)      on a clean set: the suite's degradations
                                               (CBSD68:suite:do-no-harm)
    DEGRADATION := NUMBER                      a noise sigma: 25 is noise:25
                 | PART ("+" PART)*            applied left to right: noise:15+jpeg:20
    PART        := DNAME [":" VALUE]           DNAME: baryir.degradations.available_degradations
    VALUE       := NUMBER | NUMBER "-" NUMBER  | LEVEL   (MIN-MAX: drawn per image; LEVEL: a word)
    SLICE       := "[" [INT] ":" [INT] "]"     files in natural name order, Python slice rules
    PATH        := a path written with "/" (or "\\"), or starting with "." or "~"
    NAME        := a word without "/": a test set's name, or a library suite's after "suite:"

    folder      := [DEGRADATION "@"] FOLDER [SLICE]    data.folders values; FOLDER any path

What a string means never depends on which files exist: a NAME is a name (``ood`` is no
test set, and the error says to write ``suite:ood`` for the suite or ``./ood`` for the
folder), a folder is written as a path. A suite is named with ``suite:`` (or by a ``.yaml``
path) wherever a row could also be a test set; where only a suite can stand (``baryir suite
--config``, a suite file's ``include``) the bare name is enough.

Example:
    >>> parse_row("CBSD68[0:10]:25")
    SetSpec(source='CBSD68', folder=False, arg='noise:25', subset=slice(0, 10, None), suite=None)
    >>> parse_row("suite:ood")
    SuiteRef(name='ood', path=None)
    >>> parse_degradation("noise:15-50+jpeg:30")
    (DegradationPart(name='noise', arg='15-50'), DegradationPart(name='jpeg', arg='30'))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "SUITE_PREFIX",
    "DegradationPart",
    "FolderSpec",
    "SetSpec",
    "SuiteRef",
    "degradation_text",
    "is_path",
    "parse_degradation",
    "parse_folder",
    "parse_range",
    "parse_row",
    "parse_suite_ref",
    "subset_text",
]

SUITE_PREFIX = "suite:"
"""What names a suite in a row (``suite:ood``)."""

_SUBSET = re.compile(r"\[(-?\d*):(-?\d*)\]$")
_NAMED = re.compile(r"^([^:\[\]/]+?)\s*(\[-?\d*:-?\d*\])?\s*(?::(.*))?$")
_NUMBER = r"\d+(?:\.\d+)?"
_RANGE = re.compile(rf"^({_NUMBER})(?:-({_NUMBER}))?$")


@dataclass(frozen=True)
class SuiteRef:
    """A suite: a library suite's ``name`` or a suite file's ``path`` (one of them is None)."""

    name: str | None = None
    path: Path | None = None


@dataclass(frozen=True)
class SetSpec:
    """A test set row (see the module's grammar).

    Attributes:
        source: the set's name as written, or the folder path.
        folder: True when ``source`` is a folder path.
        arg: the degradation (bare numbers made ``noise:N``) or CDD11 kind; None: none.
        subset: the slice of the files; None: all.
        suite: ``CBSD68:suite:NAME``: the suite whose degradations apply (``arg`` is None).
    """

    source: str
    folder: bool = False
    arg: str | None = None
    subset: slice | None = None
    suite: SuiteRef | None = None


@dataclass(frozen=True)
class FolderSpec:
    """A training folder override: ``degradation`` (None: the task's use) of ``folder``."""

    degradation: str | None
    folder: Path
    subset: slice | None = None


@dataclass(frozen=True)
class DegradationPart:
    """One ``name[:arg]`` part of a degradation spec (``arg`` None: the class defaults)."""

    name: str
    arg: str | None = None


def is_path(text: str) -> bool:
    """Whether ``text`` is written as a path (holds ``/`` or ``\\``, or starts ``.`` or ``~``)."""
    return "/" in text or "\\" in text or text.startswith((".", "~"))


def degradation_text(text: str) -> str:
    """A degradation spec with a bare number read as a noise sigma (``"25"`` -> ``"noise:25"``)."""
    text = text.strip()
    return f"noise:{text}" if text.replace(".", "", 1).isdigit() else text


def subset_text(subset: slice) -> str:
    """``slice(70, 100)`` -> ``"[70:100]"``."""
    start = "" if subset.start is None else subset.start
    stop = "" if subset.stop is None else subset.stop
    return f"[{start}:{stop}]"


def _split_subset(text: str, where: str) -> tuple[str, slice | None]:
    match = _SUBSET.search(text)
    if match is None:
        if "[" in text:
            raise ValueError(f"{where!r}: a slice is [start:stop] right after the set or folder")
        return text, None
    start, stop = (int(g) if g else None for g in match.groups())
    return text[: match.start()], slice(start, stop)


def parse_suite_ref(text: str, bare: bool = True) -> SuiteRef:
    """A suite reference: ``suite:NAME``, ``suite:PATH``, a ``.yaml`` path, or (``bare``:
    where only a suite can stand) a bare NAME."""
    text = text.strip()
    named = text.startswith(SUITE_PREFIX)
    body = text[len(SUITE_PREFIX) :].strip() if named else text
    if not body:
        raise ValueError(f"{text!r}: name the suite after 'suite:' (suite:ood, suite:my.yaml)")
    if is_path(body) or body.endswith((".yaml", ".yml")):
        return SuiteRef(path=Path(body).expanduser())
    if not (named or bare):
        raise ValueError(f"{text!r} is no suite reference: write suite:{text}")
    return SuiteRef(name=body)


def parse_row(text: str) -> SetSpec | SuiteRef:
    """A row of the grammar (see the module): a suite, or a test set or folder."""
    text = text.strip()
    if not text:
        raise ValueError("empty row spec")
    if text.startswith(SUITE_PREFIX) or text.endswith((".yaml", ".yml")):
        return parse_suite_ref(text)
    degradation, at, rest = text.partition("@")
    if at:
        if not degradation.strip():
            raise ValueError(f"{text!r}: empty degradation before '@'")
        if not is_path(rest):
            raise ValueError(
                f"{text!r}: '@' takes a folder path (./{rest}, /data/{rest}); a named set takes "
                f"its degradation after ':' ({rest}:{degradation})"
            )
        folder, subset = _split_subset(rest, text)
        return SetSpec(folder, True, degradation_text(degradation), subset)
    if is_path(text):
        folder, subset = _split_subset(text, text)
        return SetSpec(folder, True, None, subset)
    match = _NAMED.match(text)
    if match is None:
        raise ValueError(f"{text!r}: a set is NAME[start:stop]:ARG or a folder path (baryir.specs)")
    name, subset = _split_subset(match.group(1) + (match.group(2) or ""), text)
    arg = (match.group(3) or "").strip()
    if match.group(3) is not None and not arg:
        raise ValueError(f"{text!r}: nothing after ':'")
    if "[" in arg:
        raise ValueError(f"{text!r}: a slice is [start:stop] right after the set or folder")
    if arg.startswith(SUITE_PREFIX):
        return SetSpec(name, False, None, subset, parse_suite_ref(arg))
    return SetSpec(name, False, degradation_text(arg) if arg else None, subset)


def parse_folder(text: str) -> FolderSpec:
    """A training folder override (``"haze@/data/clean[0:100]"``, ``"/data/Rain100H[0:70]"``)."""
    degradation, at, folder = text.strip().partition("@")
    if not at:
        degradation, folder = "", degradation
    elif not degradation.strip():
        raise ValueError(f"folder override {text!r}: empty degradation before '@'")
    folder, subset = _split_subset(folder.strip(), text)
    if not folder:
        raise ValueError(f"folder override {text!r}: no folder")
    return FolderSpec(degradation_text(degradation) if at else None, Path(folder), subset)


def parse_degradation(text: str) -> tuple[DegradationPart, ...]:
    """The parts of a degradation spec (``"noise:15-50+jpeg:30"``; see the grammar); names are
    lower-cased, a bare number is a noise sigma."""
    parts = [part.strip() for part in degradation_text(text).split("+")]
    if not text.strip() or any(not part for part in parts):
        raise ValueError(f"empty part in degradation spec {text!r}")
    parsed = []
    for part in parts:
        name, colon, arg = part.partition(":")
        parsed.append(DegradationPart(name.strip().lower(), arg.strip() if colon else None))
    return tuple(parsed)


def parse_range(arg: str, spec: str) -> float | tuple[float, float]:
    """A part's VALUE as a number: ``"25"`` -> 25.0, ``"15-50"`` -> (15.0, 50.0)."""
    match = _RANGE.match(arg)
    if match is None:
        raise ValueError(f"bad argument {arg!r} in degradation spec {spec!r}: use N or MIN-MAX")
    low = float(match.group(1))
    return low if match.group(2) is None else (low, float(match.group(2)))
