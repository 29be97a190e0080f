"""The unit every budget is kept in: zCDP rho. A table declared with a pure-DP epsilon is counted as the
rho it implies, where the tables policy is read and where the ledger charges it, by this one formula.

(The other direction, the epsilon at a delta that a rho implies, is OpenDP's: ``release.stages.noise``.)
"""


def rho_from_epsilon(epsilon: float) -> float:
    """Pure epsilon-DP implies (epsilon^2 / 2)-zCDP (Bun & Steinke 2016, Prop. 1.4)."""
    return epsilon * epsilon / 2
