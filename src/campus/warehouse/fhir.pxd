# Compiled by Cython from fhir.py at install time (see setup.py); no static types needed here.
