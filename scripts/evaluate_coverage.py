"""Rule evaluate_coverage: the Al distribution's coverage on many stacks at chosen class fractions, and
the pipeline's top-1 and calibration on the study's images."""

import pandas as pd

from zeostem.analysis.analyzer import Analyzer
from zeostem.analysis.calibration import Calibration
from zeostem.analysis.references import References
from zeostem.evaluation.coverage import stack_study, with_stated_dose
from zeostem.evaluation.identifiability import evaluate_image, summarise
from zeostem.evaluation.truth import TruthImage
from zeostem.figures.coverage import coverage_figure
from zeostem.parallel import forked_map
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    analyzer = Analyzer(References.load(i.clean, i.labels, i.empty), Calibration.load(i.calibration))
    images = [TruthImage(**row) for row in p.images]
    results = forked_map(
        lambda item: evaluate_image(item, analyzer, ideal_observer=False),
        images,
        snakemake.threads,
        "coverage",
    )
    fields = [f for _, _, _, image_fields in results for f in image_fields]
    molecules, image_rows = (pd.DataFrame([r for result in results for r in result[k]]) for k in (0, 1))
    calls = summarise(molecules, image_rows)
    calls.to_csv(o.calibration, index=False)
    print(calls.to_string())
    classes = analyzer.classes
    fields += with_stated_dose(fields, classes, analyzer.calibration)  # as a user who states the dose imaged
    study = stack_study(fields, classes.names, classes.tsites, p.study["stacks"], p.study["molecules"])
    study.to_csv(o.table, index=False)
    print(study.to_string())
    coverage_figure(study, o.figure)
