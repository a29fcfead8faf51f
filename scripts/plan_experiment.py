"""Rule plan: the lowest dose and the molecules needed for the config's targets (``analysis.plan``)."""

from zeostem.analysis.pipeline import Calibration
from zeostem.analysis.planner import PlanSettings, plan_experiment, read_molecules, write_plan
from zeostem.figures.plan import plan_figure
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    settings = PlanSettings(**snakemake.params.settings)
    classes = Calibration.load(snakemake.input.calibration).class_names
    result = plan_experiment(read_molecules(snakemake.input.molecules), classes, settings)
    print(write_plan(result, snakemake.output.table, snakemake.output.text))
    print(result.table.to_string())
    plan_figure(result, snakemake.output.figure)
