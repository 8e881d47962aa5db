"""Churn and lifetime-value models: LightGBM assets that call the plain-Python `ml` library."""
