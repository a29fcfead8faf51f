"""A finished run's manifest: the one file that says which references, models, calibration and settings
its reports use, with the digest of every file and of the config the run was made from.

The workflow writes it (rule ``manifest``) and every report reads it, the workflow's own and
``zeostem analyze --workflow-results DIR``'s alike, so a report cannot mix two runs. Paths are kept
relative to the results folder: a finished run may be moved or copied as a whole.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from zeostem import paths
from zeostem.errors import InputError
from zeostem.models.card import file_hash

FORMAT = 1
REBUILD = "re-run the workflow (snakemake --cores N) so that the manifest and its files agree"


def config_digest(config: dict) -> str:
    """sha256 of the validated config, keys sorted: equal for equal configs however written."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


def _relative(path: str) -> str:
    return Path(path).relative_to(paths.ROOT).as_posix()


def write_manifest(
    out: str | Path,
    references: dict[str, list[str]],
    models: dict[str, dict],
    calibration: str,
    settings: dict,
    dose_plan: dict,
    config: dict,
) -> dict:
    """Record a run's analysis inputs with their sha256.

    Parameters
    ----------
    out
        The manifest file (``paths.MANIFEST``).
    references
        ``clean``, ``labels``, ``empty``: lists of layout paths (under ``results/``), one per candidate.
    models
        Name → ``weights``, ``card`` (layout paths) and ``kind`` (denoiser or detector).
    calibration
        The calibration file (layout path).
    settings
        The denoiser's and detector's inference tiles.
    dose_plan
        The config's ``analysis.plan`` and the seed: what ``zeostem plan`` starts from.
    config
        The validated config the run was made from (its digest is recorded).

    Returns
    -------
    dict
        The manifest as written.
    """
    files = [calibration] + [p for ps in references.values() for p in ps]
    files += [m[k] for m in models.values() for k in ("weights", "card")]
    manifest = {
        "format": FORMAT,
        "config_sha256": config_digest(config),
        "references": {kind: [_relative(p) for p in ps] for kind, ps in references.items()},
        "models": {
            name: {"weights": _relative(m["weights"]), "card": _relative(m["card"]), "kind": m["kind"]}
            for name, m in models.items()
        },
        "calibration": _relative(calibration),
        "analysis_settings": settings,
        "dose_plan": dose_plan,
        "sha256": {_relative(p): file_hash(p) for p in files},
    }
    Path(out).write_text(json.dumps(manifest, indent=1))
    return manifest


def read_manifest(results: str | Path) -> dict:
    """Read a run's manifest and check every file it names.

    Parameters
    ----------
    results
        The run's results folder.

    Returns
    -------
    dict
        The manifest with its paths under ``results``.

    Raises
    ------
    InputError
        No manifest, a malformed one, or a named file missing or changed (its sha256 differs).
    """
    results = Path(results)
    path = paths.located(paths.MANIFEST, results)
    if not path.is_file():
        raise InputError(
            "this folder holds no finished run (its analysis manifest is missing)",
            path=path,
            fix="point --workflow-results at the results/ folder of a finished run, or finish the run "
            "(snakemake --cores N)",
        )
    try:
        manifest = json.loads(path.read_text())
        if manifest.get("format") != FORMAT:
            raise ValueError(f"format {manifest.get('format')!r}, this version reads {FORMAT}")
        for relative, digest in manifest["sha256"].items():
            file = results / relative
            if not file.is_file():
                raise InputError(
                    f"{relative}, named in the run's manifest, is missing", path=path, fix=REBUILD
                )
            if file_hash(file) != digest:
                raise InputError(
                    f"{relative} is not the file the run's manifest names (its sha256 differs)",
                    path=path,
                    fix=REBUILD,
                )
        manifest["references"] = {
            kind: [str(results / p) for p in ps] for kind, ps in manifest["references"].items()
        }
        manifest["models"] = {
            name: {**m, "weights": str(results / m["weights"]), "card": str(results / m["card"])}
            for name, m in manifest["models"].items()
        }
        manifest["calibration"] = str(results / manifest["calibration"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            f"the run's manifest is malformed ({type(exc).__name__}: {exc})", path=path, fix=REBUILD
        ) from exc
    return manifest
