from .viz.stepper import Stepper, page, svg_size  # noqa: F401  -- the stepper lives in micrornn.viz.stepper now

__all__ = ["Stepper", "page"]
