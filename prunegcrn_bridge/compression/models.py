"""The study's GNNs, built so that every weight matrix is one ``torch.nn.Linear``.

Message passing uses PyG's utilities (``gcn_norm``, ``global_mean_pool``); the learned
maps are plain ``nn.Linear`` modules. That single choice lets the pruners
(``torch.nn.utils.prune``), the fake quantizers (which swap ``nn.Linear`` for
:class:`~prunegcrn_bridge.compression.quant.QuantLinear`) and torchao (which converts
``nn.Linear``) act on the same modules in every model. ``GCNConv`` here computes exactly
what PyG's ``GCNConv`` computes (a test compares them with shared weights).

Models: :class:`GCN` (Cora nodes), :class:`GAE` (Cora links: a GCN encoder and an
inner-product decoder, standing in for the NESS model of the paper), :class:`GraphGCN`
(BBBP) and :class:`GIN` (PROTEINS, BBBP). The paper's SplineConv model for Cora is left
out: PyG's SplineConv needs pyg-lib, which is not on PyPI.

Linear modules that act on node rows carry ``node_level = True``; the quantizers use it
to apply per-node schemes (Degree-Quant's protection, A²Q's per-node bit-widths) only
where rows are nodes. Each forward takes a :class:`Graph` (``x``, ``edge_index``,
optional ``batch``); a quantized model's forward pre-hook hands the graph's in-degrees to
its layers (:func:`~prunegcrn_bridge.compression.quant.quantize_model`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

__all__ = ["GCNConv", "GINConv", "GCN", "GAE", "GraphGCN", "GIN", "Graph", "in_degree",
           "build_model", "MODELS", "input_dropout"]


@dataclass
class Graph:
    """What a forward pass needs: node features ``x`` (N, F), ``edge_index`` (2, E) and,
    for a batch of graphs, ``batch`` (N,) with each node's graph index."""

    x: Tensor
    edge_index: Tensor
    batch: Tensor | None = None
    num_graphs: int = 1

    @classmethod
    def of(cls, data: object) -> Graph:
        batch = getattr(data, "batch", None)
        return cls(data.x, data.edge_index, batch,  # type: ignore[attr-defined]
                   int(getattr(data, "num_graphs", 1)))


def in_degree(edge_index: Tensor, num_nodes: int) -> Tensor:
    """In-degree of every node (number of edges ``j -> i``), shape (N,)."""
    return torch.bincount(edge_index[1], minlength=num_nodes)


def _node_linear(i: int, o: int, bias: bool = True) -> nn.Linear:
    lin = nn.Linear(i, o, bias=bias)
    lin.node_level = True  # type: ignore[attr-defined]
    return lin


def _graph_linear(i: int, o: int) -> nn.Linear:
    lin = nn.Linear(i, o)
    lin.node_level = False  # type: ignore[attr-defined]
    return lin


class GCNConv(nn.Module):
    """Kipf & Welling's graph convolution ``D^-1/2 (A + I) D^-1/2 X W + b``."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.lin = _node_linear(in_channels, out_channels, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        from torch_geometric.nn.conv.gcn_conv import gcn_norm

        n = x.shape[0]
        ei, w = gcn_norm(edge_index, None, n, add_self_loops=True)
        h = self.lin(x)
        out = torch.zeros_like(h).index_add_(0, ei[1], h[ei[0]] * w.unsqueeze(1))
        return out + self.bias


class GINConv(nn.Module):
    """Xu et al.'s GIN layer ``MLP((1 + eps) x_i + sum_j x_j)`` with a 2-layer MLP and
    batch norm (``Linear, BatchNorm, ReLU, Linear, ReLU``), ``eps`` fixed at 0."""

    def __init__(self, in_channels: int, hidden: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(_node_linear(in_channels, hidden), nn.BatchNorm1d(hidden),
                                 nn.ReLU(), _node_linear(hidden, hidden), nn.ReLU())

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        agg = x.clone().index_add_(0, edge_index[1], x[edge_index[0]])
        return self.mlp(agg)


def input_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Dropout that draws random numbers only for the non-zero entries of ``x``.

    Same distribution as ``nn.functional.dropout`` (a zero stays zero either way), but on
    Cora's 2708 x 1433 bag-of-words input (1.3 % non-zeros) it is about 6x faster: drawing
    3.9 M random numbers per epoch dominated the GCN's training time.
    """
    if not training or p == 0.0:
        return x
    nz = x.nonzero(as_tuple=True)
    v = x[nz]
    keep = torch.rand(v.shape) >= p
    out = torch.zeros_like(x)
    out[nz] = v * keep / (1.0 - p)
    return out


class GCN(nn.Module):
    """Two-layer GCN for node classification (hidden 16, dropout 0.5: Kipf & Welling)."""

    def __init__(self, in_channels: int, out_channels: int, hidden: int = 16,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.conv1 = GCNConv(in_channels, hidden)
        self.conv2 = GCNConv(hidden, out_channels)
        self.dropout = dropout

    def forward(self, g: Graph) -> Tensor:
        x = input_dropout(g.x, self.dropout, self.training)
        x = torch.relu(self.conv1(x, g.edge_index))
        x = nn.functional.dropout(x, self.dropout, self.training)
        return self.conv2(x, g.edge_index)


class GAE(nn.Module):
    """Graph auto-encoder for link prediction: GCN encoder (hidden 32, embedding 16) and
    an inner-product decoder. ``forward`` returns node embeddings; :meth:`score` the
    logits of node pairs."""

    def __init__(self, in_channels: int, hidden: int = 32, out_channels: int = 16) -> None:
        super().__init__()
        self.conv1 = GCNConv(in_channels, hidden)
        self.conv2 = GCNConv(hidden, out_channels)

    def forward(self, g: Graph) -> Tensor:
        return self.conv2(torch.relu(self.conv1(g.x, g.edge_index)), g.edge_index)

    @staticmethod
    def score(z: Tensor, pairs: Tensor) -> Tensor:
        return (z[pairs[0]] * z[pairs[1]]).sum(dim=1)


def _mean_pool(x: Tensor, g: Graph) -> Tensor:
    from torch_geometric.nn import global_mean_pool

    return global_mean_pool(x, g.batch, size=g.num_graphs)


class _GraphClassifier(nn.Module):
    """Graph-level classifier: convolutions, mean pooling, a two-layer MLP head."""

    def __init__(self, convs: list[nn.Module], hidden: int, out_channels: int,
                 dropout: float, relu_after_conv: bool) -> None:
        super().__init__()
        self.convs = nn.ModuleList(convs)
        self.head1 = _graph_linear(hidden, hidden)
        self.head2 = _graph_linear(hidden, out_channels)
        self.dropout = dropout
        self.relu_after_conv = relu_after_conv

    def forward(self, g: Graph) -> Tensor:
        x = g.x
        for conv in self.convs:
            x = conv(x, g.edge_index)
            if self.relu_after_conv:
                x = torch.relu(x)
        x = torch.relu(self.head1(_mean_pool(x, g)))
        return self.head2(nn.functional.dropout(x, self.dropout, self.training))


class GraphGCN(_GraphClassifier):
    """GCN for graph classification: 3 GCN layers (hidden 64), mean pooling, MLP head."""

    def __init__(self, in_channels: int, out_channels: int, hidden: int = 64,
                 layers: int = 3, dropout: float = 0.5) -> None:
        super().__init__([GCNConv(in_channels if i == 0 else hidden, hidden)
                          for i in range(layers)], hidden, out_channels, dropout, True)


class GIN(_GraphClassifier):
    """GIN for graph classification: 5 GIN layers (hidden 64, batch norm), mean pooling,
    MLP head with dropout 0.5 (the study's quantization model)."""

    def __init__(self, in_channels: int, out_channels: int, hidden: int = 64,
                 layers: int = 5, dropout: float = 0.5) -> None:
        # the GIN layer's MLP ends in a ReLU already
        super().__init__([GINConv(in_channels if i == 0 else hidden, hidden)
                          for i in range(layers)], hidden, out_channels, dropout, False)


MODELS = {"gcn": GCN, "gae": GAE, "graph-gcn": GraphGCN, "gin": GIN}


def build_model(name: str, in_channels: int, out_channels: int, **kw: object) -> nn.Module:
    """A model by name (``gcn``, ``gae``, ``graph-gcn``, ``gin``)."""
    if name not in MODELS:
        from ..errors import BridgeConfigError

        raise BridgeConfigError(f"unknown model {name!r}; allowed: {', '.join(MODELS)}")
    if name == "gae":
        return GAE(in_channels, **kw)  # type: ignore[arg-type]
    return MODELS[name](in_channels, out_channels, **kw)  # type: ignore[arg-type]
