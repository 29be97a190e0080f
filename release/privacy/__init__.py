"""Privacy accounting: the budget ledger, what a build spends, the public privacy statement, and the
attacks played on the published files before they go out (recount, linkage, record risk)."""
