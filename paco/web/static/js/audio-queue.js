// PaCo's voice: each answer's sentences are queued in order (by seq) and played one after another
// through a single <audio> element, so two sentences never overlap and nothing plays twice.
// Emits 'change' ({key}) whenever an answer's state may have changed, and 'blocked' when the
// browser refused to start sound until the person taps (autoplay rules).

// 0.1 s of silence: played inside the first tap so that browsers which unlock an element only
// through a gesture (Safari) let later sentences play on their own.
const SILENCE = 'data:audio/mpeg;base64,//NAxAAAAANIAAAAAExBTUU0LjBVVVVVVVVVVVVVVVVMQU1FNC4wVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVX/80LEWwAAA0gAAAAAVVVVVVVVVVVVVVVVVVVVVVVVVVVMQU1FNC4wVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVX/80DEpAAAA0gAAAAAVVVVVVVVVVVVVVVVVVVVVVVVVUxBTUU0LjBVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVf/zQsSjAAADSAAAAABVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVf/zQMSkAAADSAAAAABVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV';

export function clipFromBase64(base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return URL.createObjectURL(new Blob([bytes], { type: 'audio/mpeg' }));
}

export class AudioQueue extends EventTarget {
  constructor(element, { muted = false } = {}) {
    super();
    this.audio = element;
    this.muted = muted;
    this.answers = new Map(); // key -> {clips: [{seq, src}], done, index}
    this.current = null;      // key of the answer being spoken (or waiting for its next sentence)
    this.paused = false;
    this.blocked = false;
    this.unlocked = false;
    this.waiting = false;     // the current answer's next sentence has not arrived yet
    element.addEventListener('ended', () => this._next());
    element.addEventListener('error', () => { if (this.current) this._next(); });
  }

  _answer(key) {
    let answer = this.answers.get(key);
    if (!answer) {
      answer = { clips: [], done: false, index: 0 };
      this.answers.set(key, answer);
    }
    return answer;
  }

  // A new answer is arriving: it is spoken as its sentences come, unless the voice is off.
  live(key) {
    this._answer(key);
    if (this.muted) return;
    this._start(key, 0);
  }

  add(key, seq, src) {
    const answer = this._answer(key);
    if (answer.clips.some((clip) => clip.seq === seq)) return;
    answer.clips.push({ seq, src });
    answer.clips.sort((a, b) => a.seq - b.seq);
    this._emit(key);
    // Only when the queue waits for this sentence: the element is also paused for a moment at the end of
    // each sentence, before its 'ended' moves on, and playing then would start that sentence again.
    if (this.current === key && this.waiting && !this.paused && !this.blocked) this._play();
  }

  // All sentences of the answer are known (from the socket, or from the addresses kept for replay).
  finish(key, sources) {
    const answer = this._answer(key);
    if (sources) sources.forEach((src, i) => { if (!answer.clips[i]) answer.clips.push({ seq: i + 1, src }); });
    answer.done = true;
    if (this.current === key && this.audio.paused && answer.index >= answer.clips.length) this._end();
    this._emit(key);
  }

  has(key) {
    const answer = this.answers.get(key);
    return Boolean(answer && answer.clips.length);
  }

  state(key) {
    if (this.current !== key) return 'idle';
    return this.paused || this.blocked ? 'paused' : 'playing';
  }

  // The per-answer button: pause, resume, or start this answer.
  toggle(key) {
    if (this.current === key) {
      if (this.paused || this.blocked) this._resume();
      else this.pause();
    } else {
      this._userStart(key);
    }
  }

  replay(key) { this._userStart(key); }

  pause() {
    if (!this.current) return;
    this.paused = true;
    this.audio.pause();
    this._emit(this.current);
  }

  stop() {
    const previous = this.current;
    this.current = null;
    this.waiting = false;
    this.paused = false;
    this.blocked = false;
    this.audio.pause();
    if (previous) this._emit(previous);
  }

  setMuted(muted) {
    this.muted = muted;
    if (muted) this.stop();
    this.dispatchEvent(new CustomEvent('mute', { detail: { muted } }));
  }

  // Called from inside a tap or key press: the moment a browser lets a page start sound.
  unlock() {
    if (this.blocked && this.current) {
      this.blocked = false;
      this._play();
    } else if (!this.unlocked && this.audio.paused && !this.current) {
      this.audio.src = SILENCE;
      this.audio.play().then(() => { this.unlocked = true; }, () => {});
    }
  }

  forget() {
    this.stop();
    for (const answer of this.answers.values()) {
      for (const clip of answer.clips) if (clip.src.startsWith('blob:')) URL.revokeObjectURL(clip.src);
    }
    this.answers.clear();
  }

  // Pressing play is a clear wish to hear that answer, even with the voice off: "off" only
  // stops answers from being read aloud by themselves.
  _userStart(key) {
    this._start(key, 0);
  }

  _start(key, index) {
    const previous = this.current;
    this.audio.pause();
    this.current = key;
    this.paused = false;
    this._answer(key).index = index;
    if (previous && previous !== key) this._emit(previous);
    this._play();
  }

  _resume() {
    this.paused = false;
    this.blocked = false;
    this._play(this.audio.currentTime > 0 && !this.audio.ended);
  }

  _play(keepPosition = false) {
    const key = this.current;
    const answer = this.answers.get(key);
    this._emit(key);
    if (!answer) return;
    if (answer.index >= answer.clips.length) {
      if (answer.done) this._end();
      else this.waiting = true; // add() plays the next sentence when it arrives
      return;
    }
    this.waiting = false;
    const clip = answer.clips[answer.index];
    if (!keepPosition || this.audio.dataset.key !== key || this.audio.dataset.seq !== String(clip.seq)) {
      this.audio.src = clip.src;
      this.audio.dataset.key = key;
      this.audio.dataset.seq = String(clip.seq);
    }
    this.audio.play().then(() => {
      this.unlocked = true;
    }, (error) => {
      if (this.current !== key) return;
      if (error && error.name === 'NotAllowedError') {
        this.blocked = true;
        this._emit(key);
        this.dispatchEvent(new CustomEvent('blocked', { detail: { key } }));
      }
      // AbortError: a newer src replaced this one; nothing to do.
    });
  }

  _next() {
    if (!this.current || this.audio.src === SILENCE) return;
    const answer = this.answers.get(this.current);
    if (!answer) return;
    answer.index += 1;
    this._play();
  }

  _end() {
    const key = this.current;
    this.current = null;
    this.waiting = false;
    this.paused = false;
    if (key) this._emit(key);
  }

  _emit(key) {
    this.dispatchEvent(new CustomEvent('change', { detail: { key } }));
  }
}
