import os
import sys

# `tiny_models` (a helper module beside the tests) is imported by name.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
