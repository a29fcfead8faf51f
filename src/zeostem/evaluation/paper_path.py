"""The paper's path as an observer, beside the pipeline and the ideal observer on the same test molecules.

Yang et al. (2024) name a molecule's T-site in three steps: ClearSTEM (DIVAESR) denoises the image,
Faster R-CNN boxes the molecules, and each box is compared by SSIM with the simulated image of every
candidate; the most similar names the T-site. Here each step is the run's own: its trained denoiser
and detector (boxes scoring at least ``FRCNN_MIN_SCORE``, as a report shows them), and the candidates'
clean references, cut to the box's size around the candidate's molecule. A true molecule is found
where a box overlaps its own by IoU ≥ 0.5 (the best-scoring such box, each box used once); its
classes are ranked by their best candidate's SSIM. The path gives no probability: its rows have no
confidence (and no ECE), only the class it names and the top-1 / top-3 credit of its ranking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zeostem.analysis.classes import Classes
from zeostem.analysis.posterior import topk_credit
from zeostem.analysis.references import References
from zeostem.metrics.detection import iou_matrix
from zeostem.metrics.image_quality import ssim
from zeostem.models.detector import FRCNN_MIN_SCORE, detect
from zeostem.models.inference import denoise_at_input_sampling

MATCH_IOU = 0.5  # a box is a true molecule's where it overlaps the molecule's own box this much
SMALLEST_SIDE = 11  # SSIM's Gaussian window (σ 1.5) spans 11 pixels: a smaller box is widened to it


@dataclass
class PaperPath:
    """The run's denoiser and detector with their inference tiles (``Jobs.analysis_settings``)."""

    denoiser: object
    detector: object
    settings: dict

    def boxes(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The denoised image, and its boxes (xyxy) and scores at or above ``FRCNN_MIN_SCORE``."""
        s = self.settings
        denoised = denoise_at_input_sampling(
            self.denoiser, image.astype(np.float32), s["inference_tile"], s["inference_overlap"]
        )
        boxes, scores = detect(self.detector, denoised, s["detector_tile"], s["detector_overlap"])
        boxes, scores = np.asarray(boxes).reshape(-1, 4), np.asarray(scores)
        keep = scores >= FRCNN_MIN_SCORE
        return denoised, boxes[keep], scores[keep]


def box_crop(image: np.ndarray, centre_rc: np.ndarray, size_rc: np.ndarray) -> np.ndarray:
    """The ``size_rc`` window of a periodic ``image`` centred at ``centre_rc``."""
    size = np.maximum(np.round(size_rc).astype(int), SMALLEST_SIDE)
    rows = np.arange(size[0]) + int(round(centre_rc[0] - size[0] / 2))
    cols = np.arange(size[1]) + int(round(centre_rc[1] - size[1] / 2))
    return image[np.ix_(rows % image.shape[0], cols % image.shape[1])]


def ssim_scores(denoised: np.ndarray, box: np.ndarray, refs: References) -> np.ndarray:
    """SSIM of the box's window of ``denoised`` with each candidate's clean reference over a window of
    the same size around the candidate's molecule (both standardised: the denoiser's output and the
    simulation need not share a scale)."""
    x0, y0, x1, y1 = box
    size = np.array([y1 - y0, x1 - x0])
    seen = _standardised(box_crop(denoised, np.array([(y0 + y1) / 2, (x0 + x1) / 2]), size))
    return np.array([
        ssim(_standardised(box_crop(c.image, np.array(c.molecule_centre_px), size)), seen)
        for c in refs.candidates
    ])  # fmt: skip


def _standardised(window: np.ndarray) -> np.ndarray:
    return (window - window.mean()) / max(float(window.std()), 1e-12)


def paper_calls(
    denoised: np.ndarray, boxes: np.ndarray, scores: np.ndarray, truth_boxes: np.ndarray,
    refs: References, classes: Classes,
) -> list[dict[str, float] | None]:  # fmt: skip
    """Per true molecule (``truth_boxes`` xyxy), the classes' scores (their best candidate's SSIM) of the
    box that found it, or None where no box did."""
    overlap = iou_matrix(np.asarray(truth_boxes, float).reshape(-1, 4), boxes)
    used: set[int] = set()
    calls: list[dict[str, float] | None] = []
    for row in overlap:
        free = [k for k in np.argsort(-scores) if row[k] >= MATCH_IOU and k not in used]
        if not free:
            calls.append(None)
            continue
        used.add(free[0])
        candidate = ssim_scores(denoised, boxes[free[0]], refs)
        members = zip(classes.names, classes.members, strict=True)
        calls.append({name: float(candidate[m].max()) for name, m in members})
    return calls


def paper_row(scores: dict[str, float] | None, truth: set[str]) -> dict:
    """A molecule's ``observer = paper`` columns: the class named, top-1 / top-3 credit, no confidence."""
    if scores is None:
        return {"detected": False, "predicted_class": "", "confidence": np.nan, "p_true": np.nan,
                "top1": 0.0, "top3": 0.0}  # fmt: skip
    return {"detected": True, "predicted_class": max(scores, key=scores.get), "confidence": np.nan,
            "p_true": np.nan, "top1": topk_credit(scores, truth, 1),
            "top3": topk_credit(scores, truth, 3)}  # fmt: skip
