"""Domain packages: each one outside service's logic in one place.

A domain imports ``common`` and third-party libraries only; the ingress
(``api``), the workers (``workers``) and the CLI (``hookstream``) import it
through thin adapters, so no domain logic is written twice.
"""
