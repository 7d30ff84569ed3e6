import numpy as np
import pytest

from csintel.neighbours import BLOCK, POOL, nearest_neighbours
from csintel.themes.cluster import normalize_rows


@pytest.mark.parametrize("n, k", [(7, 3), (POOL + 5, 5), (BLOCK + 37, 15), (300, POOL + 10)])
def test_nearest_neighbours_match_a_full_sort(n, k):
    x = normalize_rows(np.random.default_rng(n).standard_normal((n, 16)).astype(np.float32))
    indices, sims = nearest_neighbours(x, k)
    full = x @ x.T
    np.fill_diagonal(full, -np.inf)
    expected = np.argsort(-full, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(indices, expected)          # most similar first, never itself
    np.testing.assert_allclose(sims, np.take_along_axis(full, expected, axis=1), rtol=1e-6)


def test_nearest_neighbours_of_some_rows_only():
    x = normalize_rows(np.random.default_rng(3).standard_normal((50, 8)).astype(np.float32))
    indices, _ = nearest_neighbours(x, 4, rows=np.array([5, 40]))
    whole, _ = nearest_neighbours(x, 4)
    np.testing.assert_array_equal(indices, whole[[5, 40]])
