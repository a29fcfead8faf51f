"""Rule detection_dataset: COCO files per split (denoised or raw images), split as the denoiser's."""

import json

from zeostem.datasets.coco import coco_from_labels
from zeostem.io.images import read_image
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    with open(snakemake.input.split) as f:
        split = json.load(f)
    for name in ("train", "validation", "test"):
        entries = []
        for (conformation, dose, replica), image, labels in zip(
            snakemake.params.images, snakemake.input.images, snakemake.input.labels, strict=True
        ):
            if conformation not in split[name]:
                continue
            with open(labels) as f:
                label = json.load(f)
            height, width = read_image(image)[0].shape
            entries.append(
                {"file": image, "height": height, "width": width, "labels": label,
                 "conformation": conformation, "dose": dose, "replica": replica}
            )  # fmt: skip
        with open(snakemake.output[name], "w") as f:
            json.dump(coco_from_labels(entries), f)
        print(f"{name}: {len(entries)} images")
