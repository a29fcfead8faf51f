"""Rule al_distribution: the Al distribution over T-sites, per image and pooled over the images sheet."""

import json

import numpy as np
import pandas as pd

from zeostem.analysis.posterior import al_distribution
from zeostem.figures.alsite import al_distribution_figure
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    reports = []
    for path in snakemake.input:
        with open(path) as f:
            reports.append(json.load(f))
    sites = sorted(
        {s for r in reports for m in r["molecules"] for s in m["tsite_log_likelihood"]},
        key=lambda s: int(s[1:]),
    )
    per_image = {
        r["image"]: np.array(
            [[m["tsite_log_likelihood"].get(s, -np.inf) for s in sites] for m in r["molecules"]]
        ).reshape(len(r["molecules"]), len(sites))
        for r in reports
    }
    rows = []
    pooled = np.concatenate(list(per_image.values())) if per_image else np.zeros((0, len(sites)))
    for name, ll in [("all images", pooled), *per_image.items()]:
        for entry in al_distribution(ll, sites):
            rows.append({"images": name, "molecules": len(ll), **entry})
    table = pd.DataFrame(rows, columns=["images", "molecules", "tsite", "fraction", "low", "high"])
    table.to_csv(snakemake.output.table, index=False)
    print(table[table["images"] == "all images"].to_string() if len(table) else "no molecule in any report")
    al_distribution_figure(table, snakemake.output.figure)
