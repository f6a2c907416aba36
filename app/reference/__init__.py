"""Reference data and vocabularies.

UN regional groups, countries, languages, the controlled vocabularies, and the JSON files they read.
"""
