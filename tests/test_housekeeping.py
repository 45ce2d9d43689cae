"""The sweep that frees what closed tabs uploaded, run against Streamlit's own upload and media managers."""
import sys
from types import SimpleNamespace

from streamlit.runtime.caching.ttl_cache import TTLCache
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.runtime.memory_session_storage import MemorySessionStorage
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.runtime.session_manager import SessionInfo
from streamlit.runtime.uploaded_file_manager import UploadedFileRec
from streamlit.runtime.websocket_session_manager import WebsocketSessionManager

from app_pages.shell import housekeeping
from cnnviz import memory


def _runtime(alive: list[str]) -> SimpleNamespace:
    """The parts of streamlit's Runtime the sweep reads, with the real managers."""
    sessions = SimpleNamespace(list_sessions=lambda: [SimpleNamespace(session=SimpleNamespace(id=s)) for s in alive])
    return SimpleNamespace(_session_mgr=sessions, uploaded_file_mgr=MemoryUploadedFileManager("/upload"),
                           media_file_mgr=MediaFileManager(MemoryMediaFileStorage("/media")))


def _upload(rt, session_id: str, mb: int = 2) -> None:
    rt.uploaded_file_mgr.add_file(session_id, UploadedFileRec(f"f-{session_id}", "photo.png", "image/png",
                                                               bytes(mb * 1_000_000)))


def test_the_uploads_of_sessions_that_are_gone_are_dropped_and_the_others_kept():
    rt = _runtime(alive=["here", "reconnecting"])
    for sid in ("here", "reconnecting", "gone-1", "gone-2"):
        _upload(rt, sid)
    assert housekeeping.sweep(rt) == 2
    assert sorted(rt.uploaded_file_mgr.file_storage) == ["here", "reconnecting"]
    assert rt.uploaded_file_mgr.get_files("here", ["f-here"])[0].data == bytes(2_000_000)
    assert rt.uploaded_file_mgr.get_files("gone-1", ["f-gone-1"]) == []
    assert housekeeping.sweep(rt) == 0  # nothing left to sweep


def test_the_pictures_shown_to_a_session_that_is_gone_are_released():
    rt = _runtime(alive=[])
    session = "dontcare"  # the session id streamlit files media under outside a script run
    rt.media_file_mgr.add(b"\x89PNG picture", "image/png", "coord-1")
    _upload(rt, session)
    assert len(rt.media_file_mgr._file_metadata) == 1
    assert housekeeping.sweep(rt) == 1
    assert len(rt.media_file_mgr._file_metadata) == 0


def test_trimming_the_heap_runs_on_glibc():
    assert memory.give_back_freed_memory() is sys.platform.startswith("linux")


class _Session:
    def __init__(self, sid: str, rt) -> None:
        self.id, self.rt, self.shut = sid, rt, False

    def shutdown(self) -> None:  # what AppSession.shutdown does with the uploads
        self.shut = True
        self.rt.uploaded_file_mgr.remove_session_files(self.id)


def test_a_closed_tabs_session_is_shut_down_once_its_time_to_reconnect_is_up():
    """Streamlit's store reaps an expired session only when another is written to it, and never shuts it
    down: the session (with a copy of every upload in its widget values) stayed in memory."""
    now = [0.0]
    storage = MemorySessionStorage(ttl_seconds=120)
    storage._cache = TTLCache(maxsize=128, ttl=120, timer=lambda: now[0])
    rt = _runtime(alive=[])
    rt._session_mgr = WebsocketSessionManager(storage, rt.uploaded_file_mgr, ScriptCache(), None)
    closed = _Session("closed", rt)
    _upload(rt, "closed")
    storage.save(SessionInfo(client=None, session=closed, script_run_count=1))
    now[0] = 60.0
    assert housekeeping.sweep(rt) == 0 and not closed.shut  # may still reconnect
    assert "closed" in rt.uploaded_file_mgr.file_storage
    now[0] = 121.0
    assert housekeeping.sweep(rt) == 1 and closed.shut
    assert len(storage._cache._data) == 0 and rt.uploaded_file_mgr.file_storage == {}


def test_sessions_that_entered_the_class_code_are_forgotten_when_they_end():
    from app_pages.shell import server_guards
    server_guards.unlocked().add("ended")
    server_guards.unlocked().add("here")
    housekeeping.sweep(_runtime(alive=["here"]))
    assert "ended" not in server_guards.unlocked() and "here" in server_guards.unlocked()
