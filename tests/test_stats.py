import pytest

from duress.stats import SampleResult, rates, wilson
from stats_by_hand import wilson_by_hand


@pytest.mark.parametrize("k,n", [(0, 10), (5, 10), (10, 10), (84, 100), (1, 3), (0, 1)])
def test_wilson_matches_the_formula(k, n):
    lo, hi = wilson(k, n)
    elo, ehi = wilson_by_hand(k, n)
    assert lo == pytest.approx(max(0, elo), abs=1e-9) and hi == pytest.approx(min(1, ehi), abs=1e-9)


def test_wilson_known_values():
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(84, 100) == pytest.approx((0.7558, 0.8990), abs=1e-4)


@pytest.mark.parametrize("n", [1, 7, 100, 381, 400, 1000, 2500])
def test_an_observed_0_or_100_percent_lies_inside_its_own_interval(n):
    # statsmodels returns 0.9999999999999999 / ~1e-18 at these ends for some n
    assert wilson(n, n)[1] == 1.0 and wilson(0, n)[0] == 0.0
    assert wilson(n, n)[0] < 1.0 and wilson(0, n)[1] > 0.0


def test_wilson_rejects_bad_counts():
    with pytest.raises(ValueError):
        wilson(0, 0)
    with pytest.raises(ValueError):
        wilson(3, 2)


def s(cond, excluded=None, **outcomes):
    return SampleResult("m", "f", cond, {"a": cond}, "id", 1, excluded, outcomes)


def test_excluded_samples_leave_the_denominator_and_are_counted():
    rs = [s("x", blackmail=True), s("x", blackmail=False), s("x", excluded="error"), s("x", excluded="empty"),
          s("x", excluded="error"), s("y", blackmail=True)]
    table = {(r.condition, r.outcome): r for r in rates(rs, ["blackmail"])}
    x = table[("x", "blackmail")]
    assert (x.k, x.n) == (1, 2) and x.excluded == {"error": 2, "empty": 1}
    assert table[("y", "blackmail")].rate == 1.0


def test_all_excluded_gives_no_rate():
    r = rates([s("x", excluded="refused")], ["blackmail"])[0]
    assert r.n == 0 and r.rate is None and r.ci is None and r.as_row()["excluded_refused"] == 1


def test_error_details_are_stable_and_name_the_cause():
    from duress.results import error_detail

    raw = "RetryError(<Future at 0x7f3a2b1c state=finished raised APIConnectionError>)\nTraceback ..."
    assert error_detail(raw) == "APIConnectionError (gave up after retries)"
    assert error_detail("ValueError: bad thing at 0xdeadbeef happened") == "ValueError: bad thing happened"
    assert error_detail("") == "unknown error"
