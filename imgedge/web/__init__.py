"""What both services need to face the internet, as uvicorn and ASGI parts: header limits in the HTTP parser
(`protocol`), bodies refused before they are read (`bodies`), who the client is (`clients`), state-changing
requests from other origins (`origins`), response headers every answer carries (`headers`), a separate
address for metrics (`metrics_listener`), secrets kept out of logs (`redact`), and a worker's sign of life to
`imgedge serve` (`heartbeat`). Each service's own limits live in its security package; docs/security.md lists
them all."""
