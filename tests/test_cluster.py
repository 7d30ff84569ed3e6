import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from csintel.themes import cluster
from csintel.themes.cluster import (
    ClusterParams,
    assign_to_centroids,
    canonical_labels,
    cluster_centroids,
    cluster_embeddings,
    default_min_cluster_size,
    merge_similar_clusters,
    normalize_rows,
)

DIM = 384


def blobs(sizes, noise, spread=1.0, seed=0):
    """Gaussian blobs on the unit sphere (members at cosine ~0.7 to their centre) plus noise
    points in random directions; returns vectors, true labels (-1 = noise) and the centres."""
    rng = np.random.default_rng(seed)
    centres = normalize_rows(rng.standard_normal((len(sizes), DIM)))
    parts = [c + spread * rng.standard_normal((s, DIM)) / DIM**0.5 for c, s in zip(centres, sizes)]
    parts.append(rng.standard_normal((noise, DIM)))
    truth = np.concatenate([np.full(s, i) for i, s in enumerate(sizes)] + [np.full(noise, -1)])
    return normalize_rows(np.vstack(parts)), truth, centres


@pytest.fixture(scope="module")
def clustered():
    vectors, truth, centres = blobs([100, 80, 60, 40], noise=20)
    first = cluster_embeddings(vectors)
    second = cluster_embeddings(vectors)
    return vectors, truth, centres, first, second


def test_recovers_blobs(clustered):
    _, truth, _, result, _ = clustered
    members = truth >= 0
    assert adjusted_rand_score(truth[members], result.labels[members]) > 0.95
    assert result.centroids.shape == (4, DIM)


def test_noise_stays_unclustered_and_reassignment_never_adds_outliers(clustered):
    _, truth, _, result, _ = clustered
    assert (result.labels[truth < 0] == -1).all()
    assert result.outlier_share <= result.outlier_share_before
    assert result.outlier_share == pytest.approx(np.mean(result.labels < 0))


def test_deterministic(clustered):
    *_, first, second = clustered
    np.testing.assert_array_equal(first.labels, second.labels)
    np.testing.assert_array_equal(first.probabilities, second.probabilities)
    np.testing.assert_array_equal(first.centroids, second.centroids)


def test_numbering_is_canonical_and_centroids_match_clusters(clustered):
    _, truth, centres, result, _ = clustered
    sizes = np.bincount(result.labels[result.labels >= 0])
    assert list(sizes) == sorted(sizes, reverse=True)  # cluster 0 is the largest
    np.testing.assert_allclose(np.linalg.norm(result.centroids, axis=1), 1.0, atol=1e-5)
    for c in range(len(sizes)):
        true_blob = np.bincount(truth[result.labels == c]).argmax()
        assert result.centroids[c] @ centres[true_blob] > 0.9


def test_probabilities_are_bounded(clustered):
    *_, result, _ = clustered
    assert ((result.probabilities >= 0) & (result.probabilities <= 1)).all()
    assert (result.probabilities[result.labels < 0] == 0).all()


@pytest.mark.parametrize("n", [0, 1, 5])
def test_tiny_inputs_do_not_crash(n):
    vectors, _, _ = blobs([10], noise=0)
    result = cluster_embeddings(vectors[:n])
    assert result.labels.shape == (n,)
    assert (result.labels == -1).all()
    assert result.centroids.shape == (0, DIM)
    assert result.outlier_share == (1.0 if n else 0.0)


def test_small_input_clusters_without_umap(monkeypatch):
    def no_umap(*args, **kwargs):
        raise AssertionError("UMAP must not run on a tiny input")

    monkeypatch.setattr(cluster, "_reduce", no_umap)
    vectors, truth, _ = blobs([12, 10], noise=0, seed=3)  # 22 rows: too few for UMAP to help
    result = cluster_embeddings(vectors)
    np.testing.assert_array_equal(result.labels, truth)


def test_strays_are_ejected_and_close_outliers_reassigned(monkeypatch):
    rng = np.random.default_rng(7)
    vectors, _, centres = blobs([15, 15], noise=0, spread=0.5, seed=5)
    near = normalize_rows(centres[1] + 1.0 * rng.standard_normal((1, DIM)) / np.sqrt(DIM))
    far = normalize_rows(rng.standard_normal((1, DIM)))
    vectors = np.vstack([vectors, near, far])
    # HDBSCAN stand-in: it calls the near point noise and glues the random one to cluster 0.
    fake = np.array([0] * 15 + [1] * 15 + [-1, 0])
    strengths = np.where(fake >= 0, 0.9, 0.0)
    monkeypatch.setattr(cluster, "_hdbscan", lambda *args, **kwargs: (fake.copy(), strengths))
    result = cluster_embeddings(vectors, ClusterParams(min_cluster_size=15))
    assert result.outlier_share_before == pytest.approx(2 / 32)  # HDBSCAN noise + the stray
    assert result.labels[30] == result.labels[15] and result.labels[31] == -1
    hdbscan_centroid = normalize_rows(vectors[15:30].mean(axis=0, keepdims=True))[0]
    assert result.probabilities[30] == pytest.approx(float(near[0] @ hdbscan_centroid), abs=1e-5)
    assert result.probabilities[31] == 0.0
    assert result.outlier_share == pytest.approx(1 / 32)


def test_rejects_bad_vectors():
    with pytest.raises(ValueError):
        cluster_embeddings(np.zeros(5))
    with pytest.raises(ValueError):
        cluster_embeddings(np.full((3, 4), np.nan))
    with pytest.raises(ValueError):
        cluster_embeddings(np.ones((3, 4)), ClusterParams(fit_sample=1))


def test_canonical_labels_orders_by_size_then_first_row():
    np.testing.assert_array_equal(
        canonical_labels(np.array([5, 2, 2, -1, 7, 5, 7, 2])), [1, 0, 0, -1, 2, 1, 2, 0]
    )
    np.testing.assert_array_equal(canonical_labels(np.array([-1, -1])), [-1, -1])


def test_cluster_centroids_are_normalised_means():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 0.0], [0.0, 0.0]])
    centroids = cluster_centroids(vectors, np.array([0, 0, 1, -1]))
    np.testing.assert_allclose(centroids, [[2**-0.5, 2**-0.5], [1.0, 0.0]], atol=1e-6)


def test_assign_to_centroids_uses_threshold_and_breaks_ties_low():
    centroids = np.array([[1.0, 0.0], [0.0, 1.0]])
    rows = np.array([[1.0, 0.1], [1.0, 1.0], [-1.0, 0.0]])
    labels, sims = assign_to_centroids(rows, centroids, threshold=0.6)
    np.testing.assert_array_equal(labels, [0, 0, -1])
    assert sims[1] == pytest.approx(2**-0.5, abs=1e-6)
    labels, _ = assign_to_centroids(rows, np.zeros((0, 2)), threshold=0.6)
    np.testing.assert_array_equal(labels, [-1, -1, -1])


def test_min_cluster_size_scales_with_window():
    assert default_min_cluster_size(300) == 5
    assert default_min_cluster_size(4_500) == 11
    assert default_min_cluster_size(10_000) == 25
    assert default_min_cluster_size(1_000_000) == 200


def test_unclustered_share_stays_low_on_blobs_with_noise():
    vectors, truth, _ = blobs([150, 120, 90, 60], noise=30, spread=1.3, seed=11)
    result = cluster_embeddings(vectors)
    members = truth >= 0
    assert result.outlier_share <= 0.2
    assert (result.labels[members] >= 0).mean() >= 0.98  # only the random noise stays out
    # Random directions share nothing, yet each sits at cosine ~0.45 to the mean of five of them,
    # itself included (exact neighbour graphs let UMAP gather them): judged against the other
    # members' mean they stay unclustered.
    assert (result.labels[~members] == -1).all()
    assert adjusted_rand_score(truth[members], result.labels[members]) > 0.95


def test_sample_fit_places_the_other_rows_consistently():
    vectors, truth, _ = blobs([120, 100, 80], noise=0, seed=4)
    params = ClusterParams(fit_sample=120)
    first, second = cluster_embeddings(vectors, params), cluster_embeddings(vectors, params)
    assert first.fit_rows == 120
    np.testing.assert_array_equal(first.labels, second.labels)
    assert adjusted_rand_score(truth, first.labels) > 0.95
    full = cluster_embeddings(vectors)
    assert full.fit_rows == len(vectors)
    assert adjusted_rand_score(full.labels, first.labels) > 0.95


def test_sample_fit_scales_the_minimum_cluster_size(monkeypatch):
    seen = {}

    def fake_hdbscan(space, min_size, min_samples, memory=None):
        seen.update(rows=len(space), min_size=min_size, min_samples=min_samples)
        return np.zeros(len(space), dtype=np.int64), np.ones(len(space))

    monkeypatch.setattr(cluster, "_reduce", lambda x, params: x[:, :5].astype(np.float64))
    monkeypatch.setattr(cluster, "_hdbscan", fake_hdbscan)
    vectors, _, _ = blobs([400], noise=0, seed=2)
    result = cluster_embeddings(vectors, ClusterParams(min_cluster_size=40, min_samples=12, fit_sample=100))
    assert seen == {"rows": 100, "min_size": 10, "min_samples": 3}
    assert (result.labels == 0).all()  # the 300 unsampled rows join the only theme


def test_fragments_of_one_theme_are_merged(monkeypatch):
    vectors, _, _ = blobs([40, 40], noise=0, seed=8)
    # HDBSCAN stand-in that shreds the first blob into two halves.
    fake = np.array([0] * 20 + [2] * 20 + [1] * 40)
    monkeypatch.setattr(cluster, "_hdbscan", lambda *args, **kwargs: (fake.copy(), np.ones(80)))
    result = cluster_embeddings(vectors, ClusterParams(min_cluster_size=10))
    np.testing.assert_array_equal(result.labels, [0] * 40 + [1] * 40)
    kept = cluster_embeddings(vectors, ClusterParams(min_cluster_size=10, merge_threshold=1.01))
    assert kept.labels.max() == 2


def test_merge_uses_centroid_linkage_not_chains():
    # a-b and b-c are similar pairs, but once a and b merge their centroid is too far from c.
    a, b, c = np.eye(3)[0], normalize_rows([[1.0, 1.0, 0.0]])[0], np.eye(3)[1]
    vectors = np.vstack([np.tile(a, (5, 1)), np.tile(b, (2, 1)), np.tile(c, (5, 1))])
    labels = np.array([0] * 5 + [1] * 2 + [2] * 5)
    merged = merge_similar_clusters(vectors, labels, threshold=0.7)
    np.testing.assert_array_equal(merged, [0] * 7 + [1] * 5)
    np.testing.assert_array_equal(merge_similar_clusters(vectors, np.full(12, -1), 0.7), np.full(12, -1))


def test_a_merge_stops_short_of_an_oversized_theme_unless_the_parts_are_one_topic():
    # Three fragments 0.82 apart (similar, not the same): merging all would make one theme of 30.
    base = normalize_rows(np.random.default_rng(3).normal(size=(3, 16)))
    common = normalize_rows(np.ones((1, 16)))[0]
    parts = normalize_rows(0.9 * common + 0.45 * base)
    vectors = np.repeat(parts, 10, axis=0)
    labels = np.repeat(np.arange(3), 10)
    sims = parts @ parts.T
    assert 0.8 <= sims[np.triu_indices(3, 1)].min() and sims[np.triu_indices(3, 1)].max() < 0.9
    assert merge_similar_clusters(vectors, labels, 0.8).max() == 0                      # uncapped: one theme
    capped = merge_similar_clusters(vectors, labels, 0.8, max_rows=20, same_topic=0.9)
    assert np.bincount(capped).max() == 20 and capped.max() == 1                        # one merge, then the cap
    # Near-duplicates (cosine >= same_topic) still merge past the cap.
    assert merge_similar_clusters(vectors, labels, 0.8, max_rows=20, same_topic=0.8).max() == 0


def test_compiles_are_cached_on_disk_except_those_taking_a_distance_function():
    import pynndescent.pynndescent_
    import umap.layouts
    import umap.umap_
    from numba.core.caching import NullCache

    cluster._cache_numba_compiles()
    for function in (umap.umap_.smooth_knn_dist, umap.umap_.compute_membership_strengths,
                     umap.layouts._nb_optimize_layout_euclidean_single_epoch):
        assert not isinstance(function._cache, NullCache)
    assert not isinstance(pynndescent.pynndescent_.new_build_candidates._cache, NullCache)
    # A distance-function argument changes type in every process: each would add an entry on disk.
    for function in (pynndescent.pynndescent_.init_random, pynndescent.pynndescent_.process_candidates):
        assert isinstance(function._cache, NullCache)


def fragmented_topics(topics=3, fragments=3, size=35, seed=4):
    """Topics told a few different ways: each topic's tickets form `fragments` overlapping
    paraphrase groups (centroids ~0.83 apart), which HDBSCAN at the window's base size keeps
    apart, like a large real topic."""
    rng = np.random.default_rng(seed)
    centres = normalize_rows(rng.standard_normal((topics, DIM)))
    rows, truth = [], []
    for t, centre in enumerate(centres):
        for _ in range(fragments):
            fragment = normalize_rows(centre + 0.4 * normalize_rows(rng.standard_normal((1, DIM))))[0]
            rows.append(fragment + 1.1 * rng.standard_normal((size, DIM)) / DIM**0.5)
            truth += [t] * size
    return normalize_rows(np.vstack(rows)), np.array(truth)


def test_large_topics_are_not_cut_into_paraphrase_fragments():
    vectors, truth = fragmented_topics()
    fixed = cluster_embeddings(vectors, ClusterParams(search_granularity=False))
    searched = cluster_embeddings(vectors)
    assert fixed.labels.max() + 1 > 3                                  # the fixed size keeps fragments
    assert searched.labels.max() + 1 == 3
    assert adjusted_rand_score(truth, searched.labels) == 1.0
    # A size given by hand is used as given.
    assert cluster_embeddings(vectors, ClusterParams(min_cluster_size=5)).labels.max() + 1 > 3


@pytest.mark.parametrize("coarse_score, coarse_cosine, expect_coarse", [
    (0.33, 0.20, False),   # within the margin of the finest: the finer themes stay
    (0.50, 0.20, False),   # clearly better, but one theme of 75% on a weakly separated window
    (0.80, 0.20, True),    # strongly separated: a theme that large is one topic
    (0.80, 0.19, True),    # a little worse in the original space: still the layout's call
    (0.80, 0.17, False),   # the layout flatters it, the original space says topics fused
])
def test_a_coarser_size_must_separate_clearly_and_may_lump_only_strong_structure(
        monkeypatch, coarse_score, coarse_cosine, expect_coarse):
    vectors, truth, _ = blobs([25, 25, 25, 25], noise=0, seed=6)

    def fake_hdbscan(space, min_size, min_samples, memory=None):
        fine = min_size == default_min_cluster_size(100)
        return (truth.copy() if fine else np.where(truth < 3, 0, 1)), np.ones(100)

    monkeypatch.setattr(cluster, "_reduce", lambda x, params: x[:, :5].astype(np.float64))
    monkeypatch.setattr(cluster, "_hdbscan", fake_hdbscan)
    def fake_separation(space, labels, seed, metric="euclidean"):
        fine = labels.max() == 3
        if metric == "cosine":  # the original space, where the finest scores 0.2
            return 0.2 if fine else coarse_cosine
        return 0.3 if fine else coarse_score

    monkeypatch.setattr(cluster, "_separation", fake_separation)
    result = cluster_embeddings(vectors)
    assert result.labels.max() + 1 == (2 if expect_coarse else 4)


def test_a_small_new_topic_beside_large_ones_keeps_its_own_theme():
    # A coarser size fuses the large topics' fragments but cannot hold 10 tickets: the new issue
    # must not vanish into the noise or into a large theme (it is what the weekly digest flags).
    vectors, truth = fragmented_topics()
    rng = np.random.default_rng(9)
    new = normalize_rows(normalize_rows(rng.standard_normal((1, DIM)))[0] + 0.6 * rng.standard_normal((10, DIM)) / DIM**0.5)
    result = cluster_embeddings(np.vstack([vectors, new]))
    themes_of_new = result.labels[len(vectors):]
    assert (themes_of_new >= 0).sum() >= 8 and len(set(themes_of_new[themes_of_new >= 0])) == 1
    assert themes_of_new.max() not in result.labels[:len(vectors)]
    assert adjusted_rand_score(truth, result.labels[:len(vectors)]) == 1.0


def test_umap_gets_the_exact_neighbour_graph_on_windows_that_fit(monkeypatch):
    import umap.umap_

    vectors, truth, _ = blobs([60, 50, 40], noise=0, seed=8)
    indices, dists = cluster._cosine_knn(vectors, 15)
    full = 1.0 - vectors @ vectors.T
    np.testing.assert_array_equal(indices[:, 0], np.arange(len(vectors)))    # itself first, at 0
    np.testing.assert_allclose(dists[:, 0], 0.0)
    assert (np.diff(dists, axis=1) >= 0).all()
    np.testing.assert_allclose(dists[:, -1], np.sort(full, axis=1)[:, 14], atol=1e-5)

    # No pynndescent search (compiled afresh in every process) below the bound; above it, UMAP's own.
    def no_search(*args, **kwargs):
        raise AssertionError("pynndescent search used")

    monkeypatch.setattr(umap.umap_, "nearest_neighbors", no_search)
    result = cluster_embeddings(vectors)
    assert adjusted_rand_score(truth, result.labels) == 1.0
    monkeypatch.setattr(cluster, "EXACT_NEIGHBOURS_MAX_ROWS", len(vectors) - 1)
    with pytest.raises(AssertionError, match="pynndescent search used"):
        cluster_embeddings(vectors)

