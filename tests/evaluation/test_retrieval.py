import numpy as np
import pytest

from mmmg.evaluation.retrieval import cosine_neighbours, retrieval_accuracy


def brute_force(query, gallery, k):
    q = query / np.linalg.norm(query, axis=1, keepdims=True)
    g = gallery / np.linalg.norm(gallery, axis=1, keepdims=True)
    sim = q @ g.T
    return np.argsort(-sim, axis=1, kind='stable')[:, :k]


@pytest.mark.parametrize('chunk', [3, 4096])
def test_neighbours_match_brute_force(chunk):
    rng = np.random.default_rng(0)
    query, gallery = rng.normal(size=(10, 8)), rng.normal(size=(30, 8))
    got = cosine_neighbours(query, gallery, 5, chunk=chunk)
    np.testing.assert_array_equal(got, brute_force(query, gallery, 5))


def test_cosine_ignores_scale_and_caps_k():
    gallery = np.array([[1., 0.], [0., 1.], [1., 1.]])
    query = np.array([[10., 0.1]])
    got = cosine_neighbours(query, gallery, 10)
    assert got.tolist() == [[0, 2, 1]]


def test_accuracy_counts_a_hit_among_the_first_k():
    gallery_labels = np.array([0, 1, 2, 1])
    neighbours = np.array([[1, 0, 2], [2, 3, 0], [0, 1, 3]])
    query_labels = np.array([0, 1, 2])
    acc = retrieval_accuracy(
        query_labels, gallery_labels, neighbours, topk=(1, 2, 3))
    # query 0: labels 1,0,2 -> hit at 2; query 1: 2,1,0 -> hit at 2;
    # query 2: 0,1,1 -> no hit.
    assert acc == pytest.approx(dict(top1=0., top2=2 / 3, top3=2 / 3))


def test_dimension_mismatch_raises():
    with pytest.raises(ValueError, match='4-d'):
        cosine_neighbours(np.ones((2, 4)), np.ones((3, 5)), 1)
