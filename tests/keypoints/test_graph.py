"""gcn_layout: MMAction2's Graph built from a layout's own edges."""
import numpy as np
import pytest
from mmaction.models.utils import Graph

from mmmg.keypoints import gcn_layout, get_layout


@pytest.mark.parametrize('name', ['mg36', 'mg22', 'openpose137'])
def test_tree_covers_the_layout_edges(name):
    layout = get_layout(name)
    graph = gcn_layout(name)
    assert graph['num_node'] == layout.num_keypoints
    assert layout.names[graph['center']] == 'neck'
    # A tree: one parent per connected point, and every edge a layout edge.
    children = [c for c, _ in graph['inward']]
    assert len(children) == len(set(children))
    edges = {frozenset(e) for e in layout.edges}
    assert all(frozenset(e) in edges for e in graph['inward'])
    # Every point reachable from the neck through the layout's edges has a
    # parent: breadth-first search over the edges, written out here.
    reach, frontier = {graph['center']}, [graph['center']]
    while frontier:
        frontier = [
            b for a in frontier for e in layout.edges for b in e
            if a in e and b not in reach and not reach.add(b)
        ]
    assert set(children) == reach - {graph['center']}


def test_mmaction_graph_accepts_it():
    graph = Graph(layout=gcn_layout('mg36'), mode='spatial')
    A = graph.A
    assert A.shape == (3, 36, 36)
    # The spatial partition: self links, inward (centripetal) and outward.
    np.testing.assert_array_equal(np.diag(A[0]) > 0, np.ones(36, bool))
    assert (A[1] > 0).sum() == (A[2] > 0).sum() == len(
        gcn_layout('mg36')['inward'])
