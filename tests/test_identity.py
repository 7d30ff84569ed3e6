import re

import numpy as np
import pytest

from csintel.themes.cluster import normalize_rows
from csintel.themes.identity import (
    centroid_theme_id,
    match_to_themes,
    reconcile_themes,
)

DIM = 64
IDS = ["th-a", "th-b", "th-c", "th-d"]


def unit(rng, n):
    return normalize_rows(rng.standard_normal((n, DIM)))


def perturb(rng, vectors, scale=0.2):
    return normalize_rows(vectors + scale * rng.standard_normal(vectors.shape) / DIM**0.5)


@pytest.fixture()
def existing():
    return unit(np.random.default_rng(0), len(IDS))


def test_permuted_and_perturbed_clusters_keep_their_ids(existing):
    rng = np.random.default_rng(1)
    order = [2, 0, 3, 1]
    matches = match_to_themes(perturb(rng, existing[order]), IDS, existing)
    assert [m.theme_id for m in matches] == [IDS[i] for i in order]
    assert all(m.status == "kept" and m.similarity > 0.9 for m in matches)
    assert [m.cluster for m in matches] == [0, 1, 2, 3]


def test_a_new_blob_is_born_with_a_deterministic_fresh_id(existing):
    rng = np.random.default_rng(2)
    new_blob = unit(rng, 1)
    centroids = np.vstack([perturb(rng, existing), new_blob])
    first = match_to_themes(centroids, IDS, existing)
    second = match_to_themes(centroids, IDS, existing)
    assert first == second
    born = first[-1]
    assert born.status == "born" and born.parent is None
    assert re.fullmatch(r"th-[0-9a-f]{8}", born.theme_id) and born.theme_id not in IDS
    assert born.theme_id == centroid_theme_id(new_blob[0])
    assert born.similarity < 0.5  # to its nearest existing theme
    assert [m.theme_id for m in first[:4]] == IDS


def test_similarity_below_threshold_does_not_keep_an_id(existing):
    rng = np.random.default_rng(3)
    drifted = perturb(rng, existing[:1], scale=1.5)  # cosine ~0.55 to the old theme
    assert float(drifted[0] @ existing[0]) < 0.8
    matches = match_to_themes(drifted, IDS, existing)
    assert matches[0].status == "born"


def test_assignment_is_optimal_not_greedy():
    themes = normalize_rows(np.array([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0]]))
    clusters = normalize_rows(np.array([[0.95, 0.3, 0.0], [0.9, -0.3, 0.3]]))
    # Cluster 0 is closest to theme 0 (0.95) but also close to theme 1 (0.94); cluster 1 only
    # to theme 0 (0.90). Greedy would strand cluster 1; the optimum keeps both.
    matches = match_to_themes(clusters, ["t0", "t1"], themes)
    assert [(m.theme_id, m.status) for m in matches] == [("t1", "kept"), ("t0", "kept")]


def test_split_records_its_parent_and_unmatched_themes_fade(existing):
    rng = np.random.default_rng(4)
    big_part = perturb(rng, existing[:1], scale=0.3)
    other = unit(rng, 1)
    small_part = normalize_rows(existing[:1] + 0.9 * other)  # cosine ~0.74 to theme a
    result = reconcile_themes(np.vstack([big_part, small_part]), IDS, existing)
    kept, split = result.matches
    assert (kept.theme_id, kept.status) == ("th-a", "kept")
    assert split.status == "born" and split.parent == "th-a"
    assert 0.6 <= split.similarity < 0.8
    assert [(f.theme_id, f.status) for f in result.retired] == [
        ("th-b", "faded"), ("th-c", "faded"), ("th-d", "faded")
    ]


def test_merge_reports_the_absorbed_theme():
    rng = np.random.default_rng(5)
    a = unit(rng, 1)[0]
    b = normalize_rows((a + 0.75 * unit(rng, 1)[0])[None])[0]  # cosine ~0.8 to a
    ids, existing = ["th-a", "th-b"], np.vstack([a, b])
    both = normalize_rows((a + b)[None])  # ~0.95 to each
    result = reconcile_themes(both, ids, existing)
    (match,) = result.matches
    assert match.status == "merged" and match.theme_id in ids
    (fate,) = result.retired
    other = ({"th-a", "th-b"} - {match.theme_id}).pop()
    assert (fate.theme_id, fate.status, fate.into) == (other, "merged", match.theme_id)
    assert match.absorbed == (other,)


def test_first_run_and_empty_run():
    rng = np.random.default_rng(6)
    fresh = match_to_themes(unit(rng, 3), [], np.zeros((0, DIM)))
    assert [m.status for m in fresh] == ["born"] * 3
    assert all(m.similarity is None for m in fresh)
    assert len({m.theme_id for m in fresh}) == 3
    gone = reconcile_themes(np.zeros((0, DIM)), IDS[:2], unit(rng, 2))
    assert gone.matches == [] and [f.status for f in gone.retired] == ["faded", "faded"]


def test_new_ids_never_collide():
    rng = np.random.default_rng(7)
    old = unit(rng, 1)
    new = unit(rng, 2)
    squatter = centroid_theme_id(new[0])  # an existing theme already holds the natural id
    matches = match_to_themes(new, [squatter], old)
    assert matches[0].theme_id not in (squatter, matches[1].theme_id)
    assert matches[0].theme_id == match_to_themes(new, [squatter], old)[0].theme_id
    twins = match_to_themes(np.vstack([new[0], new[0]]), [], np.zeros((0, DIM)))
    assert twins[0].theme_id != twins[1].theme_id
    custom = match_to_themes(new, [], np.zeros((0, DIM)), new_id=lambda c: f"theme-{c}")
    assert [m.theme_id for m in custom] == ["theme-0", "theme-1"]
    with pytest.raises(ValueError):
        match_to_themes(new, ["theme-0"], old, new_id=lambda c: f"theme-{c}")


def test_centroid_id_ignores_float_noise_and_scale():
    rng = np.random.default_rng(8)
    c = unit(rng, 1)[0]
    assert centroid_theme_id(c) == centroid_theme_id(3 * c)
    assert centroid_theme_id(c) != centroid_theme_id(unit(rng, 1)[0])


def test_rejects_inconsistent_inputs(existing):
    with pytest.raises(ValueError):
        match_to_themes(existing, IDS[:3], existing)
    with pytest.raises(ValueError):
        match_to_themes(existing, ["x", "x", "y", "z"], existing)


def toward(rng, base, cosine):
    """A unit vector at `cosine` to `base`."""
    other = unit(rng, 1)[0]
    other = normalize_rows((other - (other @ base) * base)[None])[0]
    return cosine * base + np.sqrt(1 - cosine**2) * other


def test_events_of_a_split_a_merge_a_birth_and_a_death():
    from csintel.themes.identity import lifecycle_events

    rng = np.random.default_rng(9)
    a, d = unit(rng, 2)
    b = unit(rng, 1)[0]
    c = toward(rng, b, 0.75)
    ids = ["th-a", "th-b", "th-c", "th-d"]
    new = np.vstack([toward(rng, a, 0.95), toward(rng, a, 0.70), normalize_rows((b + c)[None])[0], unit(rng, 1)[0]])
    reconciliation = reconcile_themes(new, ids, np.vstack([a, b, c, d]), new_id=lambda i: f"th-new{i}")
    events = {e.theme_id: (e.event, e.related_ids) for e in lifecycle_events(reconciliation)}
    survivor = reconciliation.matches[2].theme_id
    absorbed = ({"th-b", "th-c"} - {survivor}).pop()
    assert events == {
        "th-a": ("continued", ("th-new1",)),
        "th-new1": ("split", ("th-a",)),
        survivor: ("continued", (absorbed,)),
        absorbed: ("merged", (survivor,)),
        "th-new3": ("born", ()),
        "th-d": ("retired", ()),
    }


def test_a_theme_whose_parts_all_drift_dissolves_into_its_children():
    from csintel.themes.identity import lifecycle_events

    rng = np.random.default_rng(10)
    a, b = unit(rng, 2)
    halves = np.vstack([toward(rng, a, 0.72), toward(rng, a, 0.70), toward(rng, b, 0.97)])
    result = reconcile_themes(halves, ["th-a", "th-b"], np.vstack([a, b]), new_id=lambda i: f"th-part{i}")
    assert [(m.theme_id, m.status, m.parent) for m in result.matches] == [
        ("th-part0", "born", "th-a"), ("th-part1", "born", "th-a"), ("th-b", "kept", None)]
    (fate,) = result.retired
    assert (fate.theme_id, fate.status, fate.children) == ("th-a", "split", ("th-part0", "th-part1"))
    events = {e.theme_id: (e.event, e.related_ids) for e in lifecycle_events(result)}
    assert events["th-a"] == ("retired", ("th-part0", "th-part1"))
    assert events["th-part0"] == ("split", ("th-a",))


def test_retired_ids_are_never_given_to_a_new_theme():
    rng = np.random.default_rng(12)
    new = unit(rng, 1)
    natural = centroid_theme_id(new[0])
    fresh = reconcile_themes(new, [], np.zeros((0, DIM)), reserved_ids={natural}).matches[0]
    assert fresh.status == "born" and fresh.theme_id != natural
    assert fresh.theme_id == centroid_theme_id(new[0], salt=1)
