"""Rule calibrate_matching: temperature of the T-site probabilities and the noise model's dose constant."""

import json

import torch

from zeostem.analysis.identifiability import TruthImage, calibrate
from zeostem.analysis.pipeline import Workflow
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    p = snakemake.params
    workflow = Workflow.from_config("results", p.config, p.conformations, None)
    images = [TruthImage(*row) for row in p.images]
    calibration = calibrate(workflow, images, p.config["analysis"]["max_molecules"])
    print(calibration)
    with open(snakemake.output[0], "w") as f:
        json.dump(calibration, f, indent=1)
