from . import test_demo_sources
