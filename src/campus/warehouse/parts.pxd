# Compiled by Cython from parts.py at install time (see setup.py); no static types needed here.
