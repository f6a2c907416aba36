"""The quality lab: how well the engine tags and ranks, measured against graded ground truth.

Not part of the runtime package (the wheel holds `app` and `matching`): benchmarks and tests run
it from a checkout, with the `bench` extra for the text baselines (bm25s).

* :mod:`evaluation.metrics` -- F1 (scikit-learn), precision@k, MRR, nDCG@k, a split by group.
* :mod:`evaluation.quality` -- graded relevance, rankings from score rows, text baselines,
  theme-space experiments, synthetic needs, and :class:`~evaluation.quality.ServiceRanking`,
  which ranks exactly as the service does (``matching.ranking``).
"""
