"""Rule plan: the lowest dose and the molecules needed for the config's targets (``analysis.plan``)."""

from zeostem.analysis.calibration import Calibration
from zeostem.evaluation.dose_planner import DosePlanSettings, plan_experiment, read_molecules, write_plan
from zeostem.figures.plan import plan_figure
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    settings = DosePlanSettings(**snakemake.params.settings)
    classes = Calibration.load(snakemake.input.calibration).class_names
    result = plan_experiment(read_molecules(snakemake.input.molecules), classes, settings)
    print(write_plan(result, snakemake.output.table, snakemake.output.text))
    print(result.table.to_string())
    plan_figure(result, snakemake.output.figure)
