"""The in-process match index each worker holds.

The rows the ranking reads, their facts and theme vectors, kept current from the change log.
"""
