"""The workflow's rule graph as a picture, from ``snakemake --rulegraph`` (DOT), without Graphviz.

snakemake --rulegraph | python -m zeostem.figures.rulegraph docs/rulegraph.png
"""

from __future__ import annotations

import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402


def parse_rulegraph(dot: str) -> nx.DiGraph:
    """Rules (nodes, by label) and their dependencies (edges: input rule → rule) of a DOT rule graph."""
    labels = dict(re.findall(r"^\s*(\d+)\[label = \"([^\"]+)\"", dot, flags=re.M))
    graph = nx.DiGraph()
    graph.add_nodes_from(labels.values())
    graph.add_edges_from(
        (labels[a], labels[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)", dot, flags=re.M)
    )
    return graph


def draw_rulegraph(graph: nx.DiGraph, path: str) -> None:
    """Rules in layers: every rule below the rules it needs."""
    layers = list(nx.topological_generations(graph))
    position = {}
    for depth, layer in enumerate(layers):
        for k, rule in enumerate(sorted(layer)):
            position[rule] = (k - (len(layer) - 1) / 2, -depth)
    width = max(len(layer) for layer in layers)
    fig, ax = plt.subplots(figsize=(2.1 * width + 1, 0.9 * len(layers) + 1))
    nx.draw_networkx_edges(graph, position, ax=ax, edge_color="grey", arrows=True, arrowsize=8, alpha=0.6)
    for rule, (x, y) in position.items():
        ax.text(x, y, rule, ha="center", va="center", fontsize=7,
                bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "tab:blue"})  # fmt: skip
    ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    draw_rulegraph(parse_rulegraph(sys.stdin.read()), sys.argv[1])
