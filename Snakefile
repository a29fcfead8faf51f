# zeostem: from zeolite + molecule structures to per-image Al T-site reports.
# The default target `all` builds every finished stage of the default config.yaml (the demo).
from zeostem.io.config import validate_config


configfile: "config.yaml"


config.update(validate_config(config, "config.yaml (or --configfile/--config)"))


include: "rules/common.smk"
include: "rules/structures.smk"
include: "rules/simulate.smk"
include: "rules/datasets.smk"
include: "rules/clearstem.smk"
include: "rules/detect.smk"
include: "rules/analyze.smk"
include: "rules/mismatch.smk"
include: "rules/realistic.smk"
include: "rules/robustness.smk"
include: "rules/coverage.smk"
include: "rules/figures.smk"


rule all:
    default_target: True
    input:
        rules.structures.input,
        rules.simulations.input,
        rules.reports.input,
        rules.metrics.input,
        rules.figures.input,
