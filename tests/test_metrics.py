import numpy as np
import pytest

from astrozoo.metrics import classification as C
from astrozoo.metrics import regression as R

Y = np.array([10.0, 11.0, 12.0, 13.0])
P = np.array([10.5, 11.0, 11.0, 13.5])  # errors ŷ − y: +0.5, 0, −1, +0.5


def test_regression_by_hand():
    assert R.mse(Y, P) == pytest.approx((0.25 + 0 + 1 + 0.25) / 4)
    assert R.mae(Y, P) == pytest.approx(2.0 / 4)
    assert R.rmse(Y, P) == pytest.approx(np.sqrt(1.5 / 4))
    assert R.bias(Y, P) == pytest.approx(0.0)
    # R² = 1 − SS_res/SS_tot = 1 − 1.5/5
    assert R.r2(Y, P) == pytest.approx(1 - 1.5 / 5)
    # Δ = y − ŷ = (−0.5, 0, 1, −0.5); median −0.25; |Δ − med| = (.25,.25,1.25,.25) → median .25
    assert R.nmad(Y, P) == pytest.approx(1.4826 * 0.25)
    # 3·NMAD = 1.112: no |ŷ−y| exceeds it
    assert R.outlier_fraction(Y, P) == 0.0
    # ten galaxies, one 5 dex off: median |Δ| = 0.1 → NMAD 0.148, 3·NMAD 0.445 → 1 outlier of 10
    y, p = np.zeros(10), np.array([0.1, -0.1, 0.1, -0.1, 0, 0, 0.1, -0.1, 0, 5])
    assert R.nmad(y, p) == pytest.approx(0.14826)
    assert R.outlier_fraction(y, p) == pytest.approx(0.1)


def test_coverage_and_validation():
    assert R.coverage(Y, P, np.full(4, 0.6)) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="NaN"):
        R.mse(Y, np.array([1, 2, np.nan, 4]))
    with pytest.raises(ValueError, match="4 values"):
        R.mae(Y, P[:3])


def test_classification_by_hand():
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.2, 0.8, 0.4, 0.6, 0.9])  # labels 0 1 0 1 1: TP=2 FP=1 FN=1 TN=1
    assert C.accuracy(y, p) == pytest.approx(3 / 5)
    assert C.precision(y, p) == pytest.approx(2 / 3)
    assert C.recall(y, p) == pytest.approx(2 / 3)
    assert C.f1(y, p) == pytest.approx(2 / 3)
    assert C.balanced_accuracy(y, p) == pytest.approx((2 / 3 + 1 / 2) / 2)
    # AUC: positives {.8,.4,.9} vs negatives {.2,.6}: 5 of 6 pairs ordered
    assert C.roc_auc(y, p) == pytest.approx(5 / 6)
    assert C.confusion_matrix(y, p).tolist() == [[1, 1], [1, 2]]


def test_multiclass():
    y = np.array([0, 1, 2, 2])
    p = np.array([[.8, .1, .1], [.2, .7, .1], [.1, .2, .7], [.5, .1, .4]])
    assert C.accuracy(y, p) == pytest.approx(0.75)
    assert C.recall(y, p) == pytest.approx((1 + 1 + 0.5) / 3)
    assert 0.5 < C.roc_auc(y, p) <= 1.0
