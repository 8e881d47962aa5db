"""Churn and customer-lifetime-value models for Clientele: plain pandas + LightGBM, no orchestration.

Modules: `features` (feature list, typing, the one id and date representation), `labels` (point-in-time
labels), `model` (what every scoring model offers), `train` (LightGBM, and whether it can be trained),
`baseline` (the run-rate fallback), `evaluate`, `score`, `explain` (reason codes), `pipeline` (the entry
points orchestration calls) and `synthetic` (seeded test data). Everything works on the DataFrames of the
`customer_features` and `fct_orders` marts.
"""
