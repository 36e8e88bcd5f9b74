"""Things that happened which other parts of the running process may act on (blinker signals).

Services send them after the change is made; an edge that holds live state subscribes (the chat
socket closes the sockets of a participant who was paused or withdrawn). Within one process only:
other workers and instances still refuse such a participant on their next frame.
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender: the research ID whose access changed (paused, withdrawn, moved out of the study).
access_changed = _signals.signal("access-changed")
