"""Rule evaluate_detection: COCO AP / AP50 / AR@100 per dose on the test split, per detector input,
beside the lattice's occupancy detections."""

import pandas as pd
import torch

from zeostem.datasets.coco import load_coco_images
from zeostem.metrics.detection import coco_metrics, detection_table
from zeostem.models.detector import detect
from zeostem.models.loading import load_trained
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    d = snakemake.params.detector
    rows = []
    for kind, coco_path, weights, card in zip(
        snakemake.params.inputs,
        snakemake.input.coco,
        snakemake.input.weights,
        snakemake.input.cards,
        strict=True,
    ):
        model = load_trained(weights, card, "detector", d["device"])
        by_dose: dict[int, tuple[list, list]] = {}
        for entry, image, truth in load_coco_images(coco_path):
            found = detect(model, image, d["tile"], d["overlap"])
            by_dose.setdefault(entry["dose"], ([], []))[0].append(truth)
            by_dose[entry["dose"]][1].append(found)
        for dose, (truth, found) in sorted(by_dose.items()):
            rows.append({"input": kind, "dose": dose, "images": len(truth), **coco_metrics(truth, found)})
            print(rows[-1])
    table = detection_table(rows, pd.read_csv(snakemake.input.occupancy))
    table.to_csv(snakemake.output[0], index=False)
