"""The demo's truth as asset checks: identity resolution and both models measured against what the
simulated people really are and did. Loaded only when the configuration names a truth folder."""
