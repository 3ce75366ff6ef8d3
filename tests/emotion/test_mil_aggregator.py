import pytest
import torch

from mmmg.emotion.mil_aggregator import AttentionMILAggregator


def test_attention_is_a_distribution_over_real_clips():
    torch.manual_seed(0)
    model = AttentionMILAggregator(6, hidden_dims=4).eval()
    feats = torch.randn(3, 5, 6)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [0, 0, 1, 0, 0]],
                        dtype=torch.bool)
    weights = model.attention(model.norm(feats), mask)
    torch.testing.assert_close(weights.sum(1), torch.ones(3))
    assert (weights[~mask] == 0).all()
    assert weights[2, 2] == 1


def test_padding_content_does_not_matter():
    torch.manual_seed(0)
    model = AttentionMILAggregator(6).eval()
    feats = torch.randn(2, 4, 6)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 0]], dtype=torch.bool)
    other = feats.clone()
    other[~mask] = 1e3
    torch.testing.assert_close(model(feats, mask), model(other, mask))


def test_empty_bag_raises():
    model = AttentionMILAggregator(3)
    with pytest.raises(ValueError, match='at least one clip'):
        model(torch.zeros(1, 2, 3), torch.zeros(1, 2, dtype=torch.bool))
