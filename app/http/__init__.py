"""HTTP plumbing around the routes and pages.

Authentication, request dependencies, ETags, idempotency, rate limits, middleware, problem responses,
OpenAPI and Swagger UI.
"""
