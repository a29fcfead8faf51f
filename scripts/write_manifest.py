"""Rule manifest: the file that names what this run's reports use (``zeostem.app.manifest``)."""

from zeostem.app.manifest import write_manifest
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    i, p = snakemake.input, snakemake.params
    references = {"clean": list(i.clean), "labels": list(i.labels), "empty": list(i.empty)}
    manifest = write_manifest(
        snakemake.output[0], references, p.models, i.calibration, p.settings, p.dose_plan, snakemake.config
    )
    print(f"{len(manifest['sha256'])} files, config sha256 {manifest['config_sha256']}")
