# Compiled by Cython from worker.py at install time (see setup.py); no static types needed here.
