"""Calibration helpers: vector scaling takes back a class bias that one temperature cannot."""

import numpy as np

from csintel.classify.calibration import expected_calibration_error, fit_temperature, fit_vector_scaling, softmax


def _biased_logits(seed: int = 0, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from softmax(z) but the logits handed over lean to class 0 (as a head trained
    with balanced class weights leans to its rarest class)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 3)) * 2.0
    y = np.array([rng.choice(3, p=p) for p in softmax(z)])
    return z + np.array([1.2, 0.0, 0.0]), y


def test_vector_scaling_takes_back_a_class_bias_a_temperature_cannot():
    logits, y = _biased_logits()
    t = fit_temperature(logits, y)
    scale, bias = fit_vector_scaling(logits, y)
    assert scale.shape == bias.shape == (3,) and bias[0] == 0.0
    # the fitted bias undoes the lean: class 0 down about 1.2 against the others
    assert abs((bias[1] - bias[0]) - 1.2) < 0.3 and abs((bias[2] - bias[0]) - 1.2) < 0.3
    fresh, y_fresh = _biased_logits(seed=1)
    by_temperature = softmax(fresh / t)
    by_vector = softmax(fresh * scale + bias)
    true_share = np.mean(y_fresh == 0)
    assert np.mean(by_temperature.argmax(1) == 0) - true_share > 0.08      # still leans to class 0
    assert abs(np.mean(by_vector.argmax(1) == 0) - true_share) < 0.04
    # the top-label ECE barely sees a class bias (both are small); the log-loss does
    assert expected_calibration_error(by_vector.max(1), by_vector.argmax(1) == y_fresh) < 0.03
    rows = np.arange(len(y_fresh))
    assert -np.log(by_vector[rows, y_fresh]).mean() < -np.log(by_temperature[rows, y_fresh]).mean() - 0.03


def test_vector_scaling_leaves_calibrated_logits_alone_and_honours_weights():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(6000, 3)) * 2.0
    y = np.array([rng.choice(3, p=p) for p in softmax(z)])
    scale, bias = fit_vector_scaling(z, y)
    assert np.allclose(scale, 1.0, atol=0.1) and np.allclose(bias, 0.0, atol=0.1)
    # rows of weight 0 do not count: fitted on the first half only, whatever the second half says
    noise = np.r_[y[:3000], (y[3000:] + 1) % 3]
    weights = np.r_[np.ones(3000), np.zeros(3000)]
    half = fit_vector_scaling(z[:3000], y[:3000])
    weighted = fit_vector_scaling(z, noise, sample_weight=weights)
    assert np.allclose(half[0], weighted[0], atol=1e-3) and np.allclose(half[1], weighted[1], atol=1e-3)
