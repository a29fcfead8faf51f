"""Rule evaluate_alsite: per-molecule and per-image T-site identifiability (the pipeline, the ideal
observer and the paper's path), occupancy, the Al distribution's coverage, false molecules and calls on
molecule-free fields, reliability figure."""

from zeostem.analysis.analyzer import Analyzer
from zeostem.analysis.calibration import Calibration
from zeostem.analysis.references import References
from zeostem.evaluation.identifiability import evaluate, summarise
from zeostem.evaluation.molecule_free import evaluate_molecule_free
from zeostem.evaluation.paper_path import PaperPath
from zeostem.evaluation.truth import TruthImage
from zeostem.figures.alsite import alsite_figure
from zeostem.models.loading import load_trained
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    analyzer = Analyzer(References.load(i.clean, i.labels, i.empty), Calibration.load(i.calibration))
    # the paper's path on the same molecules, with the run's models (on the CPU: the workers are forked)
    trained = {m["kind"]: load_trained(m["weights"], m["card"], m["kind"], "cpu") for m in p.models.values()}
    paper = PaperPath(trained["denoiser"], trained["detector"], p.settings)
    images = [TruthImage(**row) for row in p.images]
    molecules, images, occupancy, coverage = evaluate(analyzer, images, snakemake.threads, paper)
    molecules.to_csv(o.molecules, index=False)
    images.to_csv(o.images, index=False)
    occupancy.to_csv(o.occupancy, index=False)
    coverage.to_csv(o.coverage, index=False)
    summary = summarise(molecules, images)
    summary.to_csv(o.summary, index=False)
    print(summary.to_string())
    print(occupancy.to_string())
    print(coverage.to_string())
    molecule_free = evaluate_molecule_free(analyzer, p.molecule_free, snakemake.threads)
    molecule_free.to_csv(o.molecule_free, index=False)
    print(molecule_free.to_string())
    alsite_figure(molecules, summary, len(analyzer.classes.names), o.figure)
