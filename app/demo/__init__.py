"""Demo data: real recommendations from the shared data set, provider profiles, and demo needs."""
