"""Rule calibrate_analysis: dose constant, identifiable classes, temperature and per-dose occupancy
thresholds (at the config's false-alarm rate) from validation images, with the measured model-error
variance (``analysis.model_error: measured``) or none."""

import json

from zeostem.analysis.references import References
from zeostem.evaluation.calibration import calibrate
from zeostem.evaluation.truth import TruthImage
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    i = snakemake.input
    references = References.load(i.clean, i.labels, i.empty)
    model_error = {"variance": 0.0, "source": "none"}
    if i.model_error:
        with open(i.model_error) as f:
            model_error = json.load(f)
    images = [TruthImage(**row) for row in snakemake.params.images]
    p = snakemake.params
    calibration = calibrate(
        references,
        images,
        p.class_dose,
        p.class_dprime,
        p.false_alarm_rate,
        model_error["variance"],
        model_error["source"],
        snakemake.threads,
        [TruthImage(**row) for row in p.efficiency_images],
    )
    print(calibration)
    if calibration["warning"]:
        print(f"WARNING: {calibration['warning']}")
    with open(snakemake.output[0], "w") as f:
        json.dump(calibration, f, indent=1)
