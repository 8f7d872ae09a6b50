import os

from hypothesis import HealthCheck, settings

# Bounded example counts keep the whole suite under 3 minutes on 2 cores; `HYPOTHESIS_PROFILE=thorough` for more.
settings.register_profile("ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
