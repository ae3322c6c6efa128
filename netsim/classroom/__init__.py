"""``netsim check`` from the command line: one scenario, or a class of them."""
