"""Rule detection_figure: Fig. 4B (AP / AP50 / AR@100 vs dose, denoised vs raw input)."""

import pandas as pd

from zeostem.figures.detection import detection_vs_dose
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    detection_vs_dose(pd.read_csv(snakemake.input[0]), snakemake.output[0])
