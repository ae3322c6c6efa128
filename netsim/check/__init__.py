"""Checking a run against expectations — what ``netsim check`` judges.

:mod:`~netsim.check.display_filter` is Wireshark's filter language over netsim's own
decoding (:mod:`netsim.wire.fields`), :mod:`~netsim.check.frames` a run's frames with
their fields, :mod:`~netsim.check.expect` the expectations (checked before a run, judged
after), :mod:`~netsim.check.report` their text, JSON, JUnit and class-table forms. It
reads only the trace and the summary: loading and running scenarios is
:mod:`netsim.scenario.checks`, the command :mod:`netsim.classroom.command`.
"""
