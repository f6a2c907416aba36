"""The matching engine: pure Python on scikit-learn, numpy and scipy."""
