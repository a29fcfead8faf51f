"""Rule calibrate_analysis: temperature, occupancy threshold and dose constant from validation images."""

import json

from zeostem.analysis.identifiability import TruthImage, calibrate
from zeostem.analysis.references import References
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    i = snakemake.input
    references = References.load(i.clean, i.labels, i.empty)
    calibration = calibrate(references, [TruthImage(**row) for row in snakemake.params.images])
    print(calibration)
    if calibration["warning"]:
        print(f"WARNING: {calibration['warning']}")
    with open(snakemake.output[0], "w") as f:
        json.dump(calibration, f, indent=1)
