"""Chatting as a participant does: streamed answers, PaCo's voice, history, safety, offline, voice input."""
from __future__ import annotations

from paco.extensions import db
from paco.models import Message

from .visit import MEDIA_RECORDER, STREAM_RECORDER


def _audio_frames(visit) -> list[dict]:
    return [f for f in visit.received if f["type"] == "audio"]


def test_an_answer_streams_in_and_is_spoken_sentence_by_sentence_in_order(visit):
    visit.sign_in("RID001")
    page = visit.page
    page.evaluate(MEDIA_RECORDER)
    page.evaluate(STREAM_RECORDER)
    visit.ask("What is P.A.D.?")
    visit.turn_ends()
    answer = page.locator(".msg-paco").last
    assert "peripheral artery disease" in answer.inner_text()
    assert page.evaluate("() => window.__sawThinking")
    lengths = page.evaluate("() => window.__lengths")
    assert len(set(lengths)) >= 10 and lengths == sorted(lengths), "the text grew word by word"
    # Every sentence the server spoke is played once, in order, each after the previous ended.
    frames = _audio_frames(visit)
    assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1)) and len(frames) >= 5
    visit.until(lambda: sum(e["type"] == "ended" for e in visit.media()) == len(frames), 30, "all sentences heard")
    heard = [(e["type"], e["seq"]) for e in visit.media() if e["type"] in ("play", "ended")]
    assert heard == [(kind, seq) for seq in range(1, len(frames) + 1) for kind in ("play", "ended")]
    assert len({e["key"] for e in visit.media()}) == 1
    assert answer.get_attribute("data-voice") == "idle"
    # The screen reader hears whole sentences, not words.
    announced = page.locator("#announcer p").all_inner_texts()
    assert announced and announced[-1].endswith("lower that risk.")
    assert all(line[-1] in ".!?" for line in announced)


def test_voice_off_stops_playback_but_the_text_and_replay_stay(visit):
    visit.sign_in("RID002")
    page = visit.page
    page.evaluate(MEDIA_RECORDER)
    page.evaluate("() => { document.getElementById('voice').defaultPlaybackRate = 1; }")
    visit.ask("How can walking help my legs?")
    visit.until(lambda: any(e["type"] == "playing" for e in visit.media()), 20, "the voice to start")
    page.get_by_role("button", name="Voice on").click()
    page.get_by_role("button", name="Voice off").wait_for()
    visit.turn_ends()
    assert page.evaluate("() => document.getElementById('voice').paused")
    assert not any(e["type"] == "ended" for e in visit.media())
    assert [e["seq"] for e in visit.media() if e["type"] == "play"] == [1]
    answer = page.locator(".msg-paco").last
    assert "Walking is one of the best things" in answer.inner_text()
    # The setting is remembered, and the next answer stays quiet.
    assert page.evaluate("() => localStorage.getItem('paco.muted')") == "true"
    visit.ask("What if I miss a dose?")
    visit.turn_ends(2)
    assert [e["seq"] for e in visit.media() if e["type"] == "play"] == [1]
    # Pressing Listen is a clear wish to hear that answer, voice off or not.
    page.get_by_role("button", name="Listen to this answer").last.click()
    visit.until(lambda: len([e for e in visit.media() if e["type"] == "play"]) == 2, 10, "replay to start")


def test_first_tap_turns_on_the_voice_when_the_browser_blocks_autoplay(visit):
    # Stand-in for a browser that allows sound only after a tap (Safari, or Chrome without
    # earlier interaction): play() is refused until a real pointer press.
    visit.context.add_init_script("""(() => {
      let allowed = false;
      addEventListener('pointerdown', (e) => { if (e.isTrusted) allowed = true; }, true);
      const play = HTMLMediaElement.prototype.play;
      HTMLMediaElement.prototype.play = function () {
        return allowed ? play.call(this) : Promise.reject(new DOMException('no gesture', 'NotAllowedError'));
      };
    })()""")
    visit.sign_in("RID003")
    page = visit.page
    page.evaluate(MEDIA_RECORDER)
    visit.ask("What is P.A.D.?")
    hint = page.get_by_role("button", name="Tap to turn on PaCo's voice")
    hint.wait_for()
    assert not visit.media()
    hint.click()
    visit.until(lambda: any(e["type"] == "playing" for e in visit.media()), 10, "the voice to start")
    assert hint.is_hidden()
    assert visit.media()[0]["seq"] == 1


def test_reload_restores_the_conversation_and_new_conversation_clears_it(visit):
    visit.sign_in("RID004")
    page = visit.page
    visit.ask("Why do I take aspirin?")
    visit.turn_ends()
    before = page.locator("#messages .msg-text").all_inner_texts()
    page.reload()
    visit.wait_screen("chat")
    page.locator("#messages .msg-paco").first.wait_for()
    assert page.locator("#messages .msg-text").all_inner_texts() == before
    assert page.locator("#welcome").is_hidden()
    # Its voice can be replayed from the audio addresses kept for the tab.
    page.evaluate(MEDIA_RECORDER)
    page.get_by_role("button", name="Listen to this answer").click()
    visit.until(lambda: any(e["type"] == "playing" for e in visit.media()), 10, "replay to start")
    assert "/api/v1/audio/" in visit.media()[0]["src"]

    page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="New conversation").click()
    assert page.locator("#messages .msg").count() == 0
    assert page.locator("#welcome").is_visible()
    page.reload()
    visit.wait_screen("chat")
    page.locator("#welcome").wait_for()
    assert page.locator("#messages .msg").count() == 0


def test_a_starter_question_is_asked_with_one_tap(visit):
    visit.sign_in("RID005")
    page = visit.page
    page.get_by_role("button", name="What if I miss a dose?").click()
    visit.turn_ends()
    assert page.locator(".msg-user").inner_text().endswith("What if I miss a dose?")
    assert "take it when you remember" in page.locator(".msg-paco").inner_text()


def test_an_emergency_reply_stands_out_with_a_call_button(visit):
    visit.sign_in("RID006")
    page = visit.page
    visit.ask("I have crushing chest pain right now")
    visit.turn_ends()
    card = page.locator(".msg-paco.safety-emergency")
    assert "This could be an emergency" in card.inner_text()
    call = card.get_by_role("link", name="Call 911")
    assert call.get_attribute("href") == "tel:911"
    assert card.evaluate("(n) => getComputedStyle(n).borderTopColor") == "rgb(164, 22, 26)"
    page.reload()
    page.locator(".msg-paco.safety-emergency").wait_for()  # and from history too


def test_messages_typed_offline_wait_and_are_sent_once(visit):
    visit.sign_in("RID007")
    page = visit.page
    visit.context.set_offline(True)
    banner = page.locator("#connection-banner")
    banner.filter(has_text="You are offline").wait_for()
    visit.ask("What if I miss a dose?")
    pending = page.locator(".msg-user").last
    assert "Waiting to send" in pending.inner_text()
    visit.context.set_offline(False)
    visit.turn_ends()
    assert banner.is_hidden()
    assert "Waiting to send" not in pending.inner_text()
    assert [f["message"] for f in visit.sent if f.get("type") == "message"] == ["What if I miss a dose?"]
    with visit.app.app_context():
        asked = db.session.query(Message).filter_by(role="user", content="What if I miss a dose?").count()
        assert asked == 1


def test_a_connection_dropped_mid_answer_recovers_the_answer_from_history(visit):
    visit.sign_in("RID008")
    page = visit.page
    visit.ask("How can walking help my legs?")
    visit.until(lambda: any(f["type"] == "chunk" for f in visit.received), 10, "the answer to start")
    visit.context.set_offline(True)
    visit.context.set_offline(False)
    page.locator(".msg-paco:not(.streaming):has-text('Ask your doctor before you start')").wait_for(timeout=15_000)
    assert page.locator(".msg-user").count() == 1
    with visit.app.app_context():
        assert db.session.query(Message).filter_by(role="user").count() == 1


def test_voice_input_explains_itself_where_the_browser_lacks_speech_recognition(visit):
    visit.context.add_init_script("delete window.SpeechRecognition; delete window.webkitSpeechRecognition;")
    visit.sign_in("RID009")
    page = visit.page
    mic = page.get_by_role("button", name="Speak your question")
    assert mic.get_attribute("aria-disabled") == "true"  # said "unavailable", yet still pressable
    mic.click(force=True)
    assert "Voice typing does not work in this browser" in page.inner_text("#composer-note")


def test_voice_input_shows_the_words_before_sending(visit):
    # A stand-in recognizer that hears two interim results and a final one.
    visit.context.add_init_script("""window.SpeechRecognition = window.webkitSpeechRecognition = class {
      start() {
        const say = (text, final, delay) => setTimeout(() => {
          const result = [{transcript: text}]; result.isFinal = final;
          this.onresult({results: [result]});
          if (final) this.onend();
        }, delay);
        say('why do I', false, 10); say('why do I take aspirin', false, 20); say('why do I take aspirin', true, 30);
      }
      stop() {}
    }""")
    visit.sign_in("RID010")
    page = visit.page
    page.get_by_role("button", name="Speak your question").click()
    # The last interim result already reads like the final one: wait for the final, which ends listening.
    page.wait_for_function("() => document.getElementById('composer-input').value === 'why do I take aspirin'"
                           " && document.getElementById('mic-button').getAttribute('aria-pressed') === 'false'")
    assert page.input_value("#composer-input") == "why do I take aspirin"
    assert not [f for f in visit.sent if f.get("type") == "message"], "nothing is sent until the person sends it"
    assert "press Send" in page.inner_text("#composer-note")
    # Sent as it stands: the study learns the question was spoken, and a typed one after it was not.
    page.locator("#composer-input").press("Enter")
    visit.turn_ends()
    visit.ask("Can I walk every day?")
    visit.turn_ends(2)
    assert [(f["message"], f["input"]) for f in visit.sent if f.get("type") == "message"] == \
        [("why do I take aspirin", "voice"), ("Can I walk every day?", "text")]
    with visit.app.app_context():
        stored = db.session.execute(db.select(Message.content, Message.input, Message.topic)
                                    .where(Message.role == "user").order_by(Message.id)).all()
    assert [tuple(row) for row in stored] == [("why do I take aspirin", "voice", "medications"),
                                              ("Can I walk every day?", "text", "walking_exercise")]


# A clip of silence (WAV, 8 kHz, 8-bit), ``ms`` long, as a blob address.
_SILENT_CLIP = """(ms) => {
  const samples = Math.round(8 * ms), bytes = new Uint8Array(44 + samples).fill(128);
  const view = new DataView(bytes.buffer), text = (at, s) => [...s].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  text(0, 'RIFF'); view.setUint32(4, 36 + samples, true); text(8, 'WAVEfmt '); view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); view.setUint16(22, 1, true); view.setUint32(24, 8000, true);
  view.setUint32(28, 8000, true); view.setUint16(32, 1, true); view.setUint16(34, 8, true);
  text(36, 'data'); view.setUint32(40, samples, true);
  return URL.createObjectURL(new Blob([bytes], {type: 'audio/wav'}));
}"""


def test_a_sentence_that_arrives_just_as_the_previous_one_ends_plays_once(visit):
    """At the end of a sentence the element pauses a moment before its 'ended' moves the queue on;
    a sentence arriving in that moment must not start the one that just ended again."""
    page = visit.open()
    page.evaluate(f"""async () => {{
      const {{ AudioQueue }} = await import('/static/web/js/audio-queue.js');
      const clip = {_SILENT_CLIP};
      const element = document.createElement('audio');
      document.body.append(element);
      const queue = new AudioQueue(element);
      const first = clip(300), second = clip(300);
      window.__played = [];
      window.__ended = 0;
      element.addEventListener('play', () => window.__played.push(element.src === first ? 1 : 2));
      element.addEventListener('ended', () => {{ window.__ended += 1; }});
      // The second sentence arrives in the moment between the first one's 'pause' and its 'ended'.
      element.addEventListener('pause', () => {{
        if (element.ended && !window.__sent) {{ window.__sent = true; queue.add('a', 2, second); queue.finish('a'); }}
      }});
      queue.live('a');
      queue.add('a', 1, first);
    }}""")
    visit.until(lambda: page.evaluate("() => window.__ended") >= 2, 10, "both sentences heard")
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.__played") == [1, 2]
