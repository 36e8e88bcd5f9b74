// The conversation as people see it: message bubbles, the thinking indicator, safety cards and
// each answer's voice controls. Text is always set as text, never as HTML.

import { el, icon } from '../dom.js';

// How each kind of safety reply stands out: a heading that says what to do, and who to call.
const SAFETY = {
  emergency: { head: 'This could be an emergency', calls: [['tel:911', 'Call 911']] },
  crisis: { head: 'You are not alone', calls: [['tel:988', 'Call 988'], ['sms:988', 'Text 988']] },
  urgent: { head: 'Please call your care team today', calls: [] },
  medication_change: { head: 'Talk with your care team first', calls: [] },
};

const FAILED_TEXT = 'PaCo could not answer this time. Please ask again in a minute.';
const CUT_OFF_NOTE = "PaCo's answer was cut off. You can ask again.";

export class AnswerView {
  constructor(node, audio) {
    this.node = node;
    this.audio = audio;
    this.text = node.querySelector('.msg-text');
    this.key = null;
    this.tools = null;
  }

  append(delta) {
    this.text.textContent += delta;
  }

  finish({ text, status = 'complete', safety = null, note = null }) {
    this.node.classList.remove('streaming');
    this.node.removeAttribute('aria-busy');
    if (text != null) this.text.textContent = text;
    if (status === 'failed' && !this.text.textContent) this.text.textContent = FAILED_TEXT;
    if (status === 'interrupted') this.addNote(CUT_OFF_NOTE);
    if (note) this.addNote(note);
    if (safety) this.markSafety(safety);
  }

  addNote(message) {
    this.node.querySelector('.msg-text').after(el('p', { class: 'msg-note' }, message));
  }

  markSafety({ category }) {
    const kind = SAFETY[category];
    if (!kind || this.node.classList.contains('msg-safety')) return;
    this.node.classList.add('msg-safety', `safety-${category}`);
    this.node.dataset.safety = category;
    this.text.before(el('p', { class: 'safety-head' }, icon('alert'), kind.head));
    if (kind.calls.length) {
      this.text.after(el('p', { class: 'safety-calls' },
        kind.calls.map(([href, label]) => el('a', { class: 'btn btn-call', href }, icon('phone'), label))));
    }
  }

  // Voice controls appear once the answer has sound: Listen/Pause/Resume and Start again. An
  // answer from history without kept sound gets them too: `load` fetches its sound on first use.
  withVoice(key, load = null) {
    this.key = key;
    this.node.dataset.audioKey = key;
    this.load = load;
    if (this.tools) return;
    const toggle = el('button', { type: 'button', class: 'btn btn-listen',
      onclick: () => this._ready(() => this.audio.toggle(key)) });
    const replay = el('button', { type: 'button', class: 'btn btn-replay', 'aria-label': 'Play again from the start',
      onclick: () => this._ready(() => this.audio.replay(key)) }, icon('replay'), 'Play again');
    this.tools = { toggle, replay };
    this.node.append(el('div', { class: 'msg-tools' }, toggle, replay));
    this.refreshVoice();
  }

  async _ready(play) {
    if (!this.load || this.audio.has(this.key)) {
      play();
      return;
    }
    if (this.loading) return;
    this.loading = true;
    this.node.dataset.voice = 'loading';
    this.tools.toggle.replaceChildren(icon('play'), 'Loading…');
    const problem = await this.load();
    this.loading = false;
    if (problem) {
      this.addNote(problem);
      this.refreshVoice();
      return;
    }
    this.load = null;
    play();
  }

  removeVoice() {
    this.tools?.toggle.parentElement.remove();
    this.tools = null;
    delete this.node.dataset.voice;
  }

  refreshVoice() {
    if (!this.tools) return;
    const state = this.audio.state(this.key);
    const [name, label, aria] = {
      playing: ['pause', 'Pause', 'Pause this answer'],
      paused: ['play', 'Resume', 'Resume this answer'],
      idle: ['play', 'Listen', 'Listen to this answer'],
    }[state];
    this.tools.toggle.replaceChildren(icon(name), label);
    this.tools.toggle.setAttribute('aria-label', aria);
    this.node.dataset.voice = state;
  }
}

export class MessageList {
  constructor(list, scroller, audio) {
    this.list = list;
    this.scroller = scroller;
    this.audio = audio;
    this.answers = new Map(); // audio key -> AnswerView
    this.thinking = el('div', { class: 'msg msg-paco thinking', id: 'thinking' },
      el('span', { class: 'dots', 'aria-hidden': 'true' }, el('span'), el('span'), el('span')),
      'PaCo is thinking…');
    audio.addEventListener('change', (event) => this.answers.get(event.detail.key)?.refreshVoice());
  }

  get empty() {
    return !this.list.querySelector('.msg:not(.thinking)');
  }

  clear() {
    this.list.replaceChildren();
    this.answers.clear();
  }

  addUser(text, { pending = false, id = null } = {}) {
    const status = el('p', { class: 'msg-status' }, pending ? 'Waiting to send…' : null);
    status.hidden = !pending;
    const node = el('div', { class: 'msg msg-user', 'data-message-id': id },
      el('span', { class: 'visually-hidden' }, 'You said: '), el('p', { class: 'msg-text' }, text), status);
    this._insert(node);
    return node;
  }

  markSent(node, label = null) {
    const status = node.querySelector('.msg-status');
    status.textContent = label || '';
    status.hidden = !label;
  }

  startAnswer({ attach = true, id = null } = {}) {
    const node = el('div', { class: 'msg msg-paco streaming', 'aria-busy': 'true', 'data-message-id': id },
      el('span', { class: 'visually-hidden' }, 'PaCo said: '), el('p', { class: 'msg-text' }));
    if (attach) this._insert(node, true);
    return new AnswerView(node, this.audio);
  }

  register(answer, key) {
    answer.withVoice(key);
    this.answers.set(key, answer);
  }

  // The study arm has no voice: take away the buttons that would only say so.
  withoutVoice() {
    for (const answer of this.answers.values()) if (answer.load) answer.removeVoice();
  }

  setThinking(visible) {
    if (visible) {
      this.list.append(this.thinking); // always last
      this.follow(true);
    } else {
      this.thinking.remove();
    }
  }

  // Past messages from the server; `voiceFor(id)` gives an answer's stored audio addresses, and
  // `loadVoice(id, key)` fetches the sound of one that has none kept (or null: the voice is off).
  renderHistory(messages, voiceFor, loadVoice = null) {
    this.clear();
    for (const message of messages) {
      if (message.role === 'user') {
        this.addUser(message.content, { id: message.id });
        continue;
      }
      const answer = this.startAnswer({ id: message.id });
      answer.finish({ text: message.content, status: message.status, safety: message.safety });
      const sources = voiceFor(message.id);
      const key = `m${message.id}`;
      if (sources && sources.length) {
        this.audio.finish(key, sources);
        this.register(answer, key);
      } else if (loadVoice && message.status !== 'failed' && message.content) {
        answer.withVoice(key, () => loadVoice(message.id, key));
        this.answers.set(key, answer);
      }
    }
    this.follow(true);
  }

  // Keep the newest text in view while the person is reading at the bottom; leave them alone
  // if they scrolled up to read something earlier.
  follow(force = false) {
    if (force || this.atBottom()) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 120;
  }

  // Runs a change that may make the last message taller (a safety card, a note) and keeps the
  // end in view if it was in view before.
  growing(change) {
    const wasAtBottom = this.atBottom();
    change();
    this.follow(wasAtBottom);
  }

  _insert(node, beforeThinking = false) {
    if (beforeThinking && this.thinking.isConnected) this.list.insertBefore(node, this.thinking);
    else this.list.append(node);
    if (this.thinking.isConnected) this.list.append(this.thinking);
    this.follow(true);
  }
}
