"""Rule measure_robustness: the robustness table and figure."""

from zeostem.analysis.analyzer import Analyzer
from zeostem.analysis.calibration import Calibration
from zeostem.analysis.references import References
from zeostem.evaluation.robustness import evaluate_cases, robustness_table
from zeostem.figures.robustness import robustness_figure
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    refs = References.load(i.clean, i.labels, i.empty)
    analyzer = Analyzer(refs, Calibration.load(i.calibration))
    molecules, images = evaluate_cases(analyzer, p.images, p.cases, snakemake.threads)
    # chance: one of the identifiable classes, which the answers are given in
    table = robustness_table(molecules, images, p.cases, 1.0 / len(analyzer.classes.names))
    table.to_csv(o.table, index=False)
    print(table.to_string())
    robustness_figure(table, o.figure)
