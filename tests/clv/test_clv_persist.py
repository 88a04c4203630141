"""JSON persistence of the CLV models (crmmodels.clv._persist): every field validated."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmmodels.clv import BGBB, BGNBD, MBGNBD, GammaGamma, ParetoNBD, _persist
from crmmodels.clv._base import MLEModel
from crmmodels.compat import lifetimes as C
from crmmodels.datasets import load_cdnow_summary
from crmmodels.errors import ArgumentError, DataError

PARAMS: dict[type[MLEModel], dict[str, float]] = {
    BGNBD: {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    MBGNBD: {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614},
    ParetoNBD: {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
    BGBB: {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783},
    GammaGamma: {"p": 6.25, "q": 3.74, "v": 15.44},
}


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def fitted(cdnow: pd.DataFrame) -> BGNBD:
    return BGNBD().fit(cdnow)


def _payload(model: MLEModel) -> dict[str, Any]:
    return json.loads(model.to_json())


@pytest.mark.parametrize("cls", list(PARAMS))
def test_round_trip_for_every_model(cls: type[MLEModel], tmp_path: Path) -> None:
    m = cls.from_params(**PARAMS[cls])
    back = cls.from_json(m.to_json())
    assert back.params_ == m.params_
    m.save(tmp_path / "m.json")
    assert cls.load(tmp_path / "m.json").params_ == m.params_
    assert _persist.from_json(cls, m.to_json()).params_ == m.params_


def test_fitted_round_trip_keeps_covariance_and_diagnostics(fitted: BGNBD) -> None:
    back = BGNBD.from_json(fitted.to_json())
    np.testing.assert_allclose(back.covariance_, fitted.covariance_)
    assert back.diagnostics_["data_range"] == fitted.diagnostics_["data_range"]
    assert back.n_customers_ == fitted.n_customers_ == 2357


@pytest.mark.parametrize(
    ("path", "value", "match"),
    [
        (("fit",), [], r"field 'fit' must be a JSON object; got a list"),
        (("hyperparameters",), [1, 2], r"field 'hyperparameters' must be a JSON object"),
        (("fit", "standard_errors"), [0.1] * 4, r"field 'fit.standard_errors' must be a JSON"),
        (("fit", "diagnostics"), "x", r"field 'fit.diagnostics' must be a JSON object"),
        (("fit", "diagnostics", "data_range"), [1], r"field 'fit.diagnostics.data_range'"),
        (("fit", "diagnostics", "data_range", "max_T"), "40", r"data_range.max_T' must be"),
        (("fit", "n_customers"), -5, r"field 'fit.n_customers' must be a finite number >= 0"),
        (("fit", "log_likelihood"), "high", r"field 'fit.log_likelihood'"),
        (("fit", "standard_errors", "r"), -1.0, r"fit.standard_errors.r' must be"),
        (("fit", "standard_errors", "zz"), 1.0, r"'fit.standard_errors' has unknown entries"),
        (("fit", "covariance"), [[1.0]], r"field 'fit.covariance' must be a 4 x 4"),
        (("fit", "covariance"), "[[1]]", r"field 'fit.covariance' must be a 4 x 4"),
        (("hyperparameters", "penalizer"), -1.0, r"field 'hyperparameters'.*penalizer"),
        (("hyperparameters", "initial_params"), [1, 2], r"'hyperparameters'.*initial_params"),
        (("hyperparameters", "shrink"), 1.0, r"field 'hyperparameters' has unknown entries"),
        (("params",), [1, 2, 3, 4], r"field 'params' is missing or not an object"),
        (("extra",), 1, r"field '\(top level\)' has unknown entries \['extra'\]"),
        (("schema_version",), True, r"unknown schema_version True"),
    ],
)
def test_bad_fields_raise_data_error_naming_them(
    fitted: BGNBD, path: tuple[str, ...], value: Any, match: str
) -> None:
    payload = _payload(fitted)
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(DataError, match=match):
        BGNBD.from_json(json.dumps(payload))
    with pytest.raises(DataError, match=match):
        BGNBD.from_dict(payload)


def test_four_hundred_digit_parameter(fitted: BGNBD) -> None:
    text = fitted.to_json().replace('"r": ', '"r": ' + "9" * 400 + ', "_r": ', 1)
    text = text.replace(', "_r": ' + repr(fitted.params_["r"]), "", 1)
    with pytest.raises(DataError, match=r"params\['r'\].*too large for a float"):
        BGNBD.from_json(text)
    huge = _payload(fitted)
    huge["fit"]["covariance"][0][0] = 10**400
    with pytest.raises(DataError, match="too large for a float"):
        BGNBD.from_dict(huge)
    huge = _payload(fitted)
    huge["fit"]["log_likelihood"] = 10**400
    with pytest.raises(DataError, match=r"fit.log_likelihood.*too large"):
        BGNBD.from_dict(huge)


def test_deeply_nested_brackets() -> None:
    with pytest.raises(DataError, match="nests deeper than 64 levels"):
        BGNBD.from_json("[" * 100_000 + "]" * 100_000)
    with pytest.raises(DataError, match="nests deeper"):
        BGNBD.from_json('{"fit": ' + "[" * 5_000 + "]" * 5_000 + "}")


def test_covariance_must_be_symmetric_positive_semidefinite(fitted: BGNBD) -> None:
    payload = _payload(fitted)
    cov = np.array(payload["fit"]["covariance"])
    bad = cov.copy()
    bad[0, 0] = -abs(bad[0, 0])
    payload["fit"]["covariance"] = bad.tolist()
    with pytest.raises(DataError, match=r"'fit.covariance' is not positive semi-definite"):
        BGNBD.from_dict(payload)
    asym = cov.copy()
    asym[0, 1] = asym[1, 0] + 1.0
    payload["fit"]["covariance"] = asym.tolist()
    with pytest.raises(DataError, match=r"'fit.covariance' is not symmetric"):
        BGNBD.from_dict(payload)
    # NaN (null) rows of parameters without a variance are allowed
    part = cov.copy()
    part[0, :] = np.nan
    part[:, 0] = np.nan
    payload["fit"]["covariance"] = [[None if np.isnan(v) else v for v in row] for row in part]
    assert np.isnan(BGNBD.from_dict(payload).covariance_[0, 0])


def test_huge_data_range_loads_but_the_grid_is_capped(fitted: BGNBD) -> None:
    payload = _payload(fitted)
    payload["fit"]["diagnostics"]["data_range"] = {"max_frequency": 1e12, "max_T": 1e12}
    model = BGNBD.from_dict(payload)
    with pytest.raises(ArgumentError, match=r"grid would have .* cells"):
        model.probability_alive_matrix()
    assert model.probability_alive_matrix(max_frequency=3, max_recency=5).shape == (4, 6)


def test_size_limit_and_encoding(fitted: BGNBD, tmp_path: Path) -> None:
    big = fitted.to_json()[:-1] + ', "pad": "' + "x" * _persist.MAX_BYTES + '"}'
    with pytest.raises(DataError, match="more than the limit of 10,485,760 bytes"):
        BGNBD.from_json(big)
    path = tmp_path / "big.json"
    path.write_text(big, encoding="utf-8")
    with pytest.raises(DataError, match="more than the limit"):
        BGNBD.load(path)
    latin = tmp_path / "latin.json"
    latin.write_bytes(fitted.to_json().encode("utf-8")[:-2] + b', "n": "caf\xe9"}')
    with pytest.raises(DataError, match="is not a UTF-8 text file"):
        BGNBD.load(latin)
    with pytest.raises(DataError, match="not UTF-8"):
        BGNBD.from_json(b'{"a": "\xff"}')  # type: ignore[arg-type]


def test_bad_json_never_unpickles(tmp_path: Path) -> None:
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps({"model": "BGNBD"}))
    with pytest.raises(DataError):
        BGNBD.load(path)


# ------------------------------------------------------------------- compat layer
@pytest.fixture(scope="module")
def bgf(cdnow: pd.DataFrame) -> C.BetaGeoFitter:
    return C.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


def _saved(bgf: C.BetaGeoFitter, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "bgf.json"
    bgf.save_model(path)
    return json.loads(path.read_text(encoding="utf-8"))


def _load(payload: dict[str, Any], tmp_path: Path) -> C.BetaGeoFitter:
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    out = C.BetaGeoFitter()
    out.load_model(path)
    return out


def test_compat_round_trip(bgf: C.BetaGeoFitter, tmp_path: Path) -> None:
    back = _load(_saved(bgf, tmp_path), tmp_path)
    pd.testing.assert_series_equal(back.params_, bgf.params_)
    pd.testing.assert_frame_equal(back.variance_matrix_, bgf.variance_matrix_)


@pytest.mark.parametrize("key", ["model", "params", "variance_matrix"])
def test_compat_missing_keys(bgf: C.BetaGeoFitter, tmp_path: Path, key: str) -> None:
    payload = _saved(bgf, tmp_path)
    del payload[key]
    with pytest.raises(DataError, match=rf"field '{key}' is missing"):
        _load(payload, tmp_path)


def test_compat_params_must_agree_with_the_model(bgf: C.BetaGeoFitter, tmp_path: Path) -> None:
    payload = _saved(bgf, tmp_path)
    payload["params"]["alpha"] *= 2
    with pytest.raises(DataError, match=r"'params' disagrees with the model .*\['alpha'\]"):
        _load(payload, tmp_path)
    payload = _saved(bgf, tmp_path)
    payload["params"] = [1, 2, 3, 4]
    with pytest.raises(DataError, match="field 'params' must be a JSON object"):
        _load(payload, tmp_path)


def test_compat_bad_fields(bgf: C.BetaGeoFitter, tmp_path: Path) -> None:
    payload = _saved(bgf, tmp_path)
    payload["variance_matrix"] = [[1.0, 2.0], [2.0, 1.0]]
    with pytest.raises(DataError, match="'variance_matrix' must be a 4 x 4"):
        _load(payload, tmp_path)
    payload = _saved(bgf, tmp_path)
    payload["penalizer_coef"] = "a lot"
    with pytest.raises(DataError, match="penalizer_coef must be a finite number"):
        _load(payload, tmp_path)
    payload = _saved(bgf, tmp_path)
    payload["model"]["fit"] = []
    with pytest.raises(DataError, match="field 'fit' must be a JSON object"):
        _load(payload, tmp_path)
    payload = _saved(bgf, tmp_path)
    payload["data"] = {"data": 3}
    with pytest.raises(DataError, match="field 'data' must hold"):
        _load(payload, tmp_path)
    path = tmp_path / "latin.json"
    path.write_bytes(b'{"format": "caf\xe9"}')
    with pytest.raises(DataError, match="not a UTF-8 text file"):
        C.BetaGeoFitter().load_model(path)
