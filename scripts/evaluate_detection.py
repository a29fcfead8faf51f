"""Rule evaluate_detection: COCO AP / AP50 / AR@100 per dose on the test split, per detector input, on
the full fields and on the paper's 128² crops around a molecule, beside a fixed-box baseline and the
lattice's occupancy detections."""

import pandas as pd
import torch

from zeostem.datasets.coco import load_coco_images
from zeostem.metrics.detection import coco_metrics, detection_table, fixed_box_detections, molecule_crops
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
        by_dose: dict[tuple[str, int], dict[str, list]] = {}
        for entry, image, truth in load_coco_images(coco_path):
            pieces = {"full field": [(image, truth)], "paper crops": molecule_crops(image, truth)}
            for protocol, parts in pieces.items():
                if not parts:  # an image smaller than the paper's crops
                    continue
                images = by_dose.setdefault(
                    (protocol, entry["dose"]), {"truth": [], "found": [], "shape": []}
                )
                for part, boxes in parts:
                    images["truth"].append(boxes)
                    images["found"].append(detect(model, part, d["tile"], d["overlap"]))
                    images["shape"].append(part.shape)
        for (protocol, dose), images in sorted(by_dose.items()):
            metrics = coco_metrics(images["truth"], images["found"])
            rows.append({"input": kind, "protocol": protocol, "dose": dose, "images": len(images["truth"]),
                         **metrics})  # fmt: skip
            print(rows[-1])
    # the baseline on the same test images and crops (every input's COCO file holds the same molecules)
    fixed = [
        {"protocol": protocol, "dose": dose, "images": len(images["truth"]),
         **coco_metrics(images["truth"], fixed_box_detections(images["truth"], images["shape"]))}
        for (protocol, dose), images in sorted(by_dose.items())
    ]  # fmt: skip
    print(fixed)
    table = detection_table(rows, fixed, pd.read_csv(snakemake.input.occupancy))
    table.to_csv(snakemake.output[0], index=False)
