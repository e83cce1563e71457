# Compiled by Cython from sources.py at install time (see setup.py); no static types needed here.
