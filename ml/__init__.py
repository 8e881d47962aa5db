"""Churn and customer-lifetime-value models for Clientele: plain pandas + LightGBM, no orchestration.

Modules: `features` (feature list, typing), `labels` (point-in-time labels), `train`, `evaluate`,
`score`, `explain` (reason codes), `pipeline` (the entry points orchestration calls) and `synthetic`
(seeded test data). Everything works on the DataFrames of the `customer_features` and `fct_orders` marts.
"""
