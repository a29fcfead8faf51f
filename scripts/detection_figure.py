"""Rule detection_figure: Fig. 4B (AP / AP50 / AR@100 vs dose, both detectors) and the Faster R-CNN's
validation AP50 per epoch."""

import pandas as pd

from zeostem.figures.detection import detection_vs_dose
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    paths = zip(snakemake.params.inputs, snakemake.input.histories, strict=True)
    histories = {kind: pd.read_csv(path) for kind, path in paths}
    detection_vs_dose(pd.read_csv(snakemake.input.table), histories, snakemake.output[0])
