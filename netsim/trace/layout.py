"""How a trace record is packed: its kinds and the fields of its 64-bit word.

A record is a time in an ``array('d')`` and one word in an ``array('Q')``::

    bit  63 ……… 32 | 31 … 24 | 23 ……… 4 | 3 … 0
         frame id  |  reason |   port   |  kind

The recorder writes these words, the models that append records themselves (links,
IP nodes) shift frame ids into them, and readers (the summary, the streaming trace)
take them apart — each from here, so none of them needs the recorder for a constant.
"""

TX, RX, DROP, ENQUEUE = 0, 1, 2, 3
KIND_NAMES = ("tx", "rx", "drop", "enqueue")

KIND_BITS, PORT_BITS, REASON_BITS = 4, 20, 8
PORT_SHIFT = KIND_BITS
REASON_SHIFT = KIND_BITS + PORT_BITS
FRAME_SHIFT = REASON_SHIFT + REASON_BITS
PORT_MASK = (1 << PORT_BITS) - 1
REASON_MASK = (1 << REASON_BITS) - 1
