from mmmg.utils import natural_key


def test_natural_key_orders_clip_numbers():
    ids = ['0054_10', '0054_2', '0003_1', 'a-1', 'a_0']
    assert sorted(
        ids, key=natural_key) == ['0003_1', '0054_2', '0054_10', 'a_0', 'a-1']
