"""Interval formulas written out by hand, for tests that check duress's statistics against them."""

import math

Z = 1.959963984540054  # the 97.5% normal quantile


def halfwidth_by_hand(k, n, z=Z):
    """Half-width of the 95% Wilson score interval for k of n."""
    p = k / n
    return z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))


def wilson_by_hand(k, n, z=Z):
    """The 95% Wilson score interval for k of n, within [0, 1]."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = halfwidth_by_hand(k, n, z)
    return max(0.0, centre - half), min(1.0, centre + half)
