"""Checking a run against expectations: ``expect:`` in a scenario, ``netsim check``.

:mod:`~netsim.check.display_filter` is Wireshark's filter language over netsim's own
decoding, :mod:`~netsim.check.expect` the expectations and their outcomes,
:mod:`~netsim.check.report` their text, JSON, JUnit and class-table forms.
"""
