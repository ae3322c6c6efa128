"""TLS (RFC 8446, RFC 5246) as a layer under any stream protocol, and the scenario PKI."""
