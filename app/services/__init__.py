"""Business logic, one module per resource; routes call exactly one function here."""
