import os

import pytest
from hypothesis import HealthCheck, settings

# Bounded example counts keep the whole suite under 3 minutes on 2 cores. The default profile is
# derandomized, so CI sees the examples a green local run saw; `HYPOTHESIS_PROFILE=explore` draws new
# ones every run (and more of them) to hunt for counterexamples.
_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=100, derandomize=True, **_common)
settings.register_profile("explore", max_examples=300, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def path(request):
    """A test run on the fast path, or on the spine ("reference": every micrornn.fast trick off). A module
    opts in with pytestmark's ``usefixtures("path")`` and ``parametrize("path", ["fast", "reference"],
    indirect=True)``: every invariant holds on both."""
    from micrornn import fast

    if getattr(request, "param", "fast") == "reference":
        with fast.off():
            yield "reference"
    else:
        yield "fast"
