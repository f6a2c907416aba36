"""Security tests: the authorization matrix (OWASP API1/API2/API5) and data exposure (API3)."""
