"""Rule evaluate_alsite: per-molecule and per-image T-site identifiability, occupancy, the Al distribution's
coverage, false molecules and calls on molecule-free fields, reliability figure."""

from zeostem.analysis.analyzer import Analyzer
from zeostem.analysis.calibration import Calibration
from zeostem.analysis.references import References
from zeostem.evaluation.identifiability import evaluate, summarise
from zeostem.evaluation.molecule_free import evaluate_molecule_free
from zeostem.evaluation.truth import TruthImage
from zeostem.figures.alsite import alsite_figure
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    i, o = snakemake.input, snakemake.output
    analyzer = Analyzer(References.load(i.clean, i.labels, i.empty), Calibration.load(i.calibration))
    molecules, images, occupancy, coverage = evaluate(
        analyzer, [TruthImage(**row) for row in snakemake.params.images], snakemake.threads
    )
    molecules.to_csv(o.molecules, index=False)
    images.to_csv(o.images, index=False)
    occupancy.to_csv(o.occupancy, index=False)
    coverage.to_csv(o.coverage, index=False)
    summary = summarise(molecules, images)
    summary.to_csv(o.summary, index=False)
    print(summary.to_string())
    print(occupancy.to_string())
    print(coverage.to_string())
    molecule_free = evaluate_molecule_free(analyzer, snakemake.params.molecule_free, snakemake.threads)
    molecule_free.to_csv(o.molecule_free, index=False)
    print(molecule_free.to_string())
    alsite_figure(molecules, summary, len(analyzer.classes.names), o.figure)
