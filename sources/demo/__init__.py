"""Deterministic demo data: latent customers simulated buy-till-you-die, landed as messy daily exports.

`generate(DemoConfig(...), out_dir)` (or `python -m sources.demo`) writes every source of
`sources.contracts` to `out_dir/landing/` and the latent truth to `out_dir/truth/`. `generator` runs
the phases in order: `population` (latent people and the attribute effects on their behaviour),
`identities` (accounts, contacts, cards, e-mail and phone spellings), `behaviour` (orders, lines,
refunds), `crm` (support tickets, marketing campaigns), `records` (rows per record version), `mess`
(late, re-exported, duplicated and malformed rows), `writers` (daily files) and `truth` (parquet and
summary); `timeline` is the clock and `text` the vectorised formatting they share.
"""

from sources.demo.generator import DemoConfig, generate

__all__ = ["DemoConfig", "generate"]
