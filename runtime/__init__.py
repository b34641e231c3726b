"""Plumbing every service uses (logging, settings, the bus, the worker host).

Not a service: it holds no product logic and owns no data. Services import it and
``contracts``; a service never imports another service.
"""
